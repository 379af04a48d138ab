"""Fit the complaint model and its two thresholds; cross-validate the whole recipe.

The thresholds are chosen on out-of-fold scores, never on rows the scoring model saw:
- ``complaint``: the highest score at which at least ``RECALL_GOAL`` of complaints open a case;
- ``unsure``: the highest score at which at most ``DROPPED_GOAL`` of complaints fall below it
  (between the two, a person decides);
- ``positive_tone``: for posts whose words read positive (VADER > 0), the score a case needs, the
  highest that keeps at most ``POSITIVE_TONE_COST`` of all complaints from a case they would open;
- ``praise_ack``: for posts that thank or praise, the score the automated public ack needs, the
  highest that withholds it from at most ``PRAISE_ACK_COST`` of all complaints (the rep replies first).
The goals carry a margin over the issue's targets (recall ≥ 0.80, dropped ≤ 5%) because a brand's
own posts will not look exactly like the training data.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from triage_lab.data import RANDOM_SOURCE, WRITTEN_SOURCE, Labelled
from turnaround.logic.triage import thanks_or_praise
from turnaround.logic.triage_model import ComplaintModel, Thresholds, feature_names, hashed, sentiment, train

# Chosen on the airline slice of the model card (error analysis only). With the random tweets and
# the written set in training the scores sit lower than before; 0.87 gives slice recall 0.824 with
# 5.9% of praise apologised to (first try, 0.85 with a smaller written set: 0.813, but 27% of dev-set
# posts unsure in CV, over the digest's 25%).
RECALL_GOAL = 0.87
# 0.0275, not 0.025: with the random tweets in training 0.025 sent 26% of dev-set posts to a person
# (smaller written set); 0.0275 kept dev-set CV at 22.5% unsure and 3.6% dropped (issue: ≤ 5%).
# 0.03 with the positive-tone bar, which sends more to a person: dev-set CV unsure 25.1% → 24.2%,
# dropped 3.5% → 3.7%; airline slice unsure 26.4% → 25.9%, dropped 3.6% → 3.8%.
DROPPED_GOAL = 0.03
# Of all complaints, the share a positive-toned post's higher bar may move from a case to a person.
# Praise the model half-reads as a complaint is positive in tone and scores just over ``complaint``
# (airline slice: most praise apologised to scored 0.39-0.55); complaints in a positive tone
# ("great job getting us in early. Too bad we're 50 minutes waiting for bags") lose their public
# reply, not their person: they go to the digest.
POSITIVE_TONE_COST = 0.03
# Of all complaints, the share whose automated public ack the praise-ack bar may withhold (their
# case still opens; the rep writes the first reply). A post that thanks or praises ("thanks for
# getting me home despite the cancellation", "still love you guys") is where praise gets a canned
# sorry, and where sarcasm hides, which a rep's own words answer better anyway.
PRAISE_ACK_COST = 0.05
EPOCHS = 10
# A small step and real L2: the dev set is small and its words are not every brand's words, so the
# model should lean on what recurs, not memorise rare words (airline-slice AUC 0.915 → 0.927).
RATE = 0.1
L2 = 1e-3
# The project's and a brand's own labelled posts are few but written in the voice triage meets in
# production; each counts as this many dev-set rows. The written set counts twice, and the dev set's
# random tweets, addressed to no brand, 0.3 times. Airline slice, praise apologised at recall 0.82:
# 9.5% with neither, 6.3% with both and 101 written praise posts, 5.6% with the 276-row written set.
SOURCE_WEIGHTS = {"project": 3.0, "brand": 3.0, WRITTEN_SOURCE: 2.0, RANDOM_SOURCE: 0.3}


@dataclass(frozen=True)
class Row:
    post: Labelled
    features: dict[int, float]
    weight: float
    tone: float = 0.0  # VADER compound of the post
    praises: bool = False  # its own words thank or praise

    @property
    def is_complaint(self) -> int:
        return 1 if self.post.label == "complaint" else 0


def prepare(posts: Sequence[Labelled], weights: dict[str, float] | None = None) -> list[Row]:
    """Features once per post (VADER is the slow part); ``weights`` per source (default 1)."""
    weights = SOURCE_WEIGHTS if weights is None else weights
    rows = []
    for p in posts:
        tone = sentiment(p.text)
        features = hashed(feature_names(p.text, tone))
        rows.append(Row(p, features, weights.get(p.source, 1.0), tone, thanks_or_praise(p.text)))
    return rows


def folds(n: int, k: int, seed: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


def _score(weights: dict[int, float], row: Row) -> float:
    return ComplaintModel(weights, Thresholds(1, 1)).probability_of(row.features)


def out_of_fold(rows: Sequence[Row], k: int = 3, seed: int = 11) -> list[float]:
    scores = [0.0] * len(rows)
    for held in folds(len(rows), k, seed):
        held_set = set(held)
        weights = train(
            [(r.features, r.is_complaint, r.weight) for i, r in enumerate(rows) if i not in held_set],
            epochs=EPOCHS,
            rate=RATE,
            l2=L2,
        )
        for i in held:
            scores[i] = _score(weights, rows[i])
    return scores


def choose_thresholds(rows: Sequence[Row], scores: Sequence[float]) -> Thresholds:
    complaint_scores = sorted(s for r, s in zip(rows, scores, strict=True) if r.is_complaint)
    if not complaint_scores:
        return Thresholds(complaint=0.5, unsure=0.5)
    n = len(complaint_scores)
    complaint = complaint_scores[min(n - 1, int((1 - RECALL_GOAL) * n))]
    unsure = complaint_scores[min(n - 1, int(DROPPED_GOAL * n))]
    # Positive-toned complaints that would open a case, lowest first: the bar rises past the first
    # POSITIVE_TONE_COST * n of them.
    positive = sorted(
        s for r, s in zip(rows, scores, strict=True) if r.is_complaint and r.tone > 0 and s >= complaint
    )
    moved = int(POSITIVE_TONE_COST * n)
    positive_tone = positive[moved] if moved < len(positive) else (positive[-1] if positive else complaint)
    positive_tone = max(positive_tone, complaint)
    # Cases of posts that thank or praise, lowest score first: the ack bar rises past the first
    # PRAISE_ACK_COST * n of them.
    praising = sorted(
        s
        for r, s in zip(rows, scores, strict=True)
        if r.is_complaint and r.praises and s >= (positive_tone if r.tone > 0 else complaint)
    )
    moved = int(PRAISE_ACK_COST * n)
    praise_ack = praising[moved] if moved < len(praising) else (praising[-1] if praising else complaint)
    return Thresholds(
        complaint=round(complaint, 4),
        unsure=round(min(unsure, complaint), 4),
        positive_tone=round(positive_tone, 4),
        praise_ack=round(max(praise_ack, complaint), 4),
    )


def fit(rows: Sequence[Row], *, seed: int = 11) -> ComplaintModel:
    """Weights from every row; thresholds from 3-fold out-of-fold scores of the same recipe."""
    thresholds = choose_thresholds(rows, out_of_fold(rows, seed=seed))
    weights = train([(r.features, r.is_complaint, r.weight) for r in rows], epochs=EPOCHS, rate=RATE, l2=L2)
    return ComplaintModel(weights, thresholds)
