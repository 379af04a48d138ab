"""``make train-triage``: fit the complaint model and write its weights and model card into the layer.

python -m triage_lab.train [--brand export.csv] [--measure NAME=labelled.csv ...] [--measure-note TEXT]

``--measure`` triages labelled posts the model was not trained on (the documented CSV format) and
puts the figures in the model card, with ``--measure-note`` saying what those posts are and how
they were used. Figures belong to the weights they measured, so a retrain without ``--measure``
writes a card without them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage_lab.data import RANDOM_SOURCE, WRITTEN_SOURCE, LabelledDataError, read_labelled_csv
from triage_lab.evaluate import brand_posts_total, cross_validate, measure, training_posts
from triage_lab.fit import (
    DROPPED_GOAL,
    EPOCHS,
    L2,
    POSITIVE_TONE_COST,
    PRAISE_ACK_COST,
    RATE,
    RECALL_GOAL,
    SOURCE_WEIGHTS,
    fit,
    prepare,
)
from turnaround.logic.triage_model import WEIGHTS

CARD = WEIGHTS.with_name("triage_model_card.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brand", type=Path, help="a brand's labelled CSV export (README, 'Triage')")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validated figures")
    parser.add_argument(
        "--measure",
        action="append",
        default=[],
        metavar="NAME=FILE.csv",
        help="labelled posts NOT in the training data to measure the new model on (repeatable)",
    )
    parser.add_argument("--measure-note", default="", help="what the --measure posts are, for the card")
    args = parser.parse_args(argv)
    external: dict[str, Path] = {}
    for item in args.measure:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            parser.error(f"--measure wants NAME=FILE.csv, got {item!r}")
        external[name] = Path(file)
    posts = training_posts(args.brand)
    model = fit(prepare(posts))
    sources = Counter((p.source, p.label) for p in posts)
    cv = {} if args.no_cv else cross_validate(posts)
    total = brand_posts_total(cv)
    model.card = {
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "training_rows": {f"{s} {lab}": n for (s, lab), n in sorted(sources.items())},
        "thresholds": {
            "complaint": model.thresholds.complaint,
            "unsure": model.thresholds.unsure,
            "positive_tone": model.thresholds.positive_tone,
            "praise_ack": model.thresholds.praise_ack,
        },
        "cross_validation": {s: f.as_dict() for s, f in sorted(cv.items())} | {"all": total.as_dict()},
    }
    try:
        measured = {name: measure(read_labelled_csv(f), model).as_dict() for name, f in external.items()}
    except (LabelledDataError, OSError) as exc:
        print(f"train-triage: {exc}", file=sys.stderr)
        return 2
    model.card["measured"] = measured
    model.save()
    weights_kb = WEIGHTS.stat().st_size / 1024
    on_training = measure([p for p in posts if p.source == "project"], model).as_dict()
    CARD.write_text(_card(model.card, weights_kb, len(model.weights), on_training, args.measure_note.strip()))
    print(CARD.read_text())
    return 0


def _figures_table(rows: dict[str, dict[str, float | int | None]]) -> str:
    keys = [
        "n",
        "complaint_recall",
        "complaint_precision",
        "complaint_f1",
        "praise_apologised",
        "unsure_rate",
        "complaints_dropped",
        "complaints_acked",
        "praise_to_rep",
    ]
    head = "| held-out posts | " + " | ".join(keys) + " |\n|" + " --- |" * (len(keys) + 1) + "\n"

    def cell(k: str, v: float | int | None) -> str:
        return "n/a" if v is None else (str(v) if k == "n" else f"{v:.3f}")

    return head + "".join(
        f"| {name} | " + " | ".join(cell(k, figs[k]) for k in keys) + " |\n" for name, figs in rows.items()
    )


def _measured_section(measured: dict[str, dict[str, Any]], note: str) -> str:
    if not measured:
        return ""
    return f"""
## Figures on labelled posts it was not trained on
Every post through the full `triage()` (rules, model, thresholds) and the playbook's
`acknowledge.min_confidence` (complaints_acked: complaints that get the automated public reply;
praise_to_rep: praise that opens a case for the rep to answer first), as `make triage-eval` does;
written by `make train-triage MEASURE=...` for these weights. {note}

{_figures_table(measured)}"""


def _card(
    card: dict[str, Any], weights_kb: float, n_weights: int, on_training: dict[str, Any], note: str = ""
) -> str:
    training = "\n".join(f"- {name}: {n}" for name, n in card["training_rows"].items())
    random_weight, written_weight = SOURCE_WEIGHTS[RANDOM_SOURCE], SOURCE_WEIGHTS[WRITTEN_SOURCE]
    project_weight = SOURCE_WEIGHTS["project"]
    cv = card["cross_validation"]
    return f"""# Triage complaint model: model card

Written by `make train-triage` ({card["trained_at"]}). Weights: `triage_weights.json.gz`
({weights_kb:.0f} KB, {n_weights:,} hashed weights).

## What it is
Logistic regression (AdaGrad SGD, {EPOCHS} epochs, rate {RATE}, L2 {L2:g}, pure Python) over hashed
(2^20) word unigrams, bigrams and negated words, plus VADER positive/negative and its shares of
positive and of negative words, '?', '!!', eye-roll
emoji, smiles, link, shouting, length, a "positive words around a negation" cue and the praise,
thanks, "all good" and open-problem cues of `triage_cues.py`. No character n-grams: they fitted the
training set's spelling and called airline customers' praise complaints (AUC complaint vs praise on
the airline slice below: 0.886 with them, 0.933 without them and with the cues). Handles are dropped, URLs and
digits normalised; a quoted post ("RT @brand: ...") is not the customer's words and is left out.
Output: P(complaint).
English only: posts X tags with another language are read by `triage_languages.py` or go to a person.

## Thresholds
- complaint ≥ {card["thresholds"]["complaint"]}: opens a case (chosen so {RECALL_GOAL:.0%} of complaints
  do on 3-fold out-of-fold scores)
- positive tone (VADER > 0): a case only at ≥ {card["thresholds"].get("positive_tone", "n/a")}, a person
  decides below it (chosen so at most {POSITIVE_TONE_COST:.0%} of all complaints lose their case to it on the
  same scores): praise the model half-reads as a complaint scores just over the complaint bar
- thanks or praise (a word or emoji of it in the post): the automated public ack of its case only
  at ≥ {card["thresholds"].get("praise_ack", "n/a")} (and the playbook's `acknowledge.min_confidence`),
  the rep writes the first reply below it (chosen so at most {PRAISE_ACK_COST:.0%} of all complaints have
  a case of this kind scoring below it, on the same scores): thanks for a fixed problem reads
  like a complaint, and a canned sorry to it embarrasses the brand; sarcasm is better answered
  by a person too
- unsure ≥ {card["thresholds"]["unsure"]}: a person decides (chosen so at most {DROPPED_GOAL:.2%} of
  complaints fall below it)
- below: not a complaint, stored with its label

## Training data
{training}

`complaints-social-media` is the development set of Preoțiuc-Pietro, Găman and Aletras,
"Automatically Identifying Complaints in Social Media" (ACL 2019), from
github.com/danielpreotiuc/complaints-social-media (no licence stated; cite the paper). Its brand-
addressed tweets are used (label 1 → complaint, 0 → neutral), and its tweets addressed to no brand
(`random tweets`, all 0 → neutral) count {random_weight:g} times: they teach that glad, chatty posts are
not complaints. The data itself is not shipped; only these weights. `project` is
`tests/data/triage_labelled.yaml` (counted {project_weight:g} times). `written` is
`infrastructure/triage_lab/written_posts.csv` (counted {written_weight:g} times): praise to brands,
complaints in customers' own words and sarcasm, and a few questions, written for training by the
project (not real customers' posts) because no labelled set it may use has praise in it; what it
covers was guided by reading the airline slice's errors below, never by copying them. Figures on
`random tweets` and `written` are shown but are not a measure of triage on real posts to brands;
`all` leaves them out.

## Figures (5-fold cross-validation: every post triaged by a model fitted without it)
{_figures_table(cv) if cv else "(skipped: --no-cv)"}{_measured_section(card.get("measured", {}), note)}
On the project's labelled set with this model (trained on it, so a regression floor, not a
measure): {on_training}

Not measured here, unless listed above: the posts of a particular brand. Measure them with
`make triage-eval DATA=your-labelled.csv` and retrain with `make train-triage BRAND_DATA=...`.
"""


if __name__ == "__main__":
    sys.exit(main())
