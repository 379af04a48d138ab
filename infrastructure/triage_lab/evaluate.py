"""Measure triage on labelled posts: ``make triage-eval DATA=file.csv`` and ``make triage-cv``.

Each post goes through the full ``triage()`` (rules, language, model, thresholds) and the playbook's
``acknowledge.min_confidence``, so the figures are what production would do. Outcomes: ``complaint``
(a case opens, its rep is emailed and the customer gets the automated public reply), ``rep first``
(a case opens and its rep is emailed, but triage is not sure enough for an automated reply: the rep
writes the first one), ``unsure`` (a person decides from the digest) or a label (stored only).

- complaint_recall = complaints that open a case (either kind) / complaints
- complaint_precision = complaints among the posts that open a case
- complaint_f1 = harmonic mean of the two
- praise_apologised = praise posts that get the automated public "sorry" / praise posts
- unsure_rate = posts sent to a person's digest / all posts
- complaints_dropped = complaints neither opening a case nor sent to a person / complaints
- complaints_acked = complaints that get the automated public reply / complaints (the rest of the
  caught ones get their first reply from the rep)
- praise_to_rep = praise posts that open a case for a rep to reply to first / praise posts
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from triage_lab.data import (
    LABELS,
    RANDOM_SOURCE,
    WRITTEN_SOURCE,
    Labelled,
    LabelledDataError,
    read_dev_set,
    read_labelled_csv,
    read_project_set,
    read_written_set,
)
from triage_lab.fit import fit, folds, prepare
from turnaround.logic.triage import triage
from turnaround.logic.triage_model import ComplaintModel
from turnaround.models.playbook import Playbook, load_playbook

REP_FIRST = "rep first"  # a case opens, with no automated reply: the rep writes the first one
PREDICTED = ("complaint", REP_FIRST, "unsure", "praise", "question", "spam", "other")
NOT_A_MEASURE = frozenset({RANDOM_SOURCE, WRITTEN_SOURCE})
KEYS = (
    "n",
    "complaint_recall",
    "complaint_precision",
    "complaint_f1",
    "praise_apologised",
    "unsure_rate",
    "complaints_dropped",
    "complaints_acked",
    "praise_to_rep",
)


@dataclass
class Figures:
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, label: str, predicted: str) -> None:
        self.confusion[(label, predicted)] += 1

    def merge(self, other: Figures) -> None:
        self.confusion.update(other.confusion)

    def _count(self, label: str | None = None, predicted: str | None = None) -> int:
        return sum(
            n
            for (lab, pred), n in self.confusion.items()
            if (label is None or lab == label) and (predicted is None or pred == predicted)
        )

    def as_dict(self) -> dict[str, float | int | None]:
        n = self._count()
        complaints = self._count("complaint")
        acked = self._count("complaint", "complaint")
        caught = acked + self._count("complaint", REP_FIRST)
        opened = self._count(predicted="complaint") + self._count(predicted=REP_FIRST)
        praise = self._count("praise")
        recall = caught / complaints if complaints else None
        precision = caught / opened if opened else None
        f1 = 2 * recall * precision / (recall + precision) if recall and precision else None
        dropped = complaints - caught - self._count("complaint", "unsure")

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "n": n,
            "complaint_recall": r(recall),
            "complaint_precision": r(precision),
            "complaint_f1": r(f1),
            "praise_apologised": r(self._count("praise", "complaint") / praise) if praise else None,
            "unsure_rate": r(self._count(predicted="unsure") / n) if n else None,
            "complaints_dropped": r(dropped / complaints) if complaints else None,
            "complaints_acked": r(acked / complaints) if complaints else None,
            "praise_to_rep": r(self._count("praise", REP_FIRST) / praise) if praise else None,
        }

    def report(self, title: str) -> str:
        width = max(len(p) for p in PREDICTED) + 1
        lines = [title, "labelled \\ triaged " + "".join(p.rjust(width) for p in PREDICTED)]
        for label in LABELS:
            if self._count(label):
                row = "".join(str(self.confusion[(label, p)]).rjust(width) for p in PREDICTED)
                lines.append(f"{label:<19}" + row)
        for key, value in self.as_dict().items():
            shown = "n/a" if value is None else (f"{value:.1%}" if key != "n" else str(value))
            lines.append(f"  {key:<20} {shown}")
        return "\n".join(lines)


def measure(
    posts: Iterable[Labelled], model: ComplaintModel | None = None, *, playbook: Playbook | None = None
) -> Figures:
    """Triage each post as ingest does, and ack its case as the playbook's ``acknowledge`` says."""
    playbook = playbook or shipped_playbook()
    figures = Figures()
    for post in posts:
        result = triage(
            post.text, followers=post.followers, verified=post.verified, lang=post.lang, model=model
        )
        outcome: str = result.category
        if outcome == "complaint" and playbook.ack_withheld(result.confidence, post_bar=result.ack_bar):
            outcome = REP_FIRST
        figures.add(post.label, outcome)
    return figures


@cache
def shipped_playbook() -> Playbook:
    """The brand's playbook as production reads it (PLAYBOOK_PATH, else infrastructure/playbook.yaml)."""
    return load_playbook()


def cross_validate(posts: Sequence[Labelled], *, k: int = 5, seed: int = 3) -> dict[str, Figures]:
    """k-fold: each fold is triaged by a model (weights and thresholds) fitted without it. Per source."""
    rows = prepare(posts)
    by_source: dict[str, Figures] = {}
    for held in folds(len(rows), k, seed):
        held_set = set(held)
        model = fit([r for i, r in enumerate(rows) if i not in held_set])
        for i in held:
            by_source.setdefault(posts[i].source, Figures()).merge(measure([posts[i]], model))
    return by_source


def training_posts(brand_csv: Path | None = None) -> list[Labelled]:
    """What ``make train-triage`` learns from: the project's set, the dev set's brand-addressed posts,
    its random tweets (source ``random tweets``, counted 0.3 times: at full weight they lowered the
    brand-post AUC from 0.835 to 0.81; at 0.3 times they teach that glad, chatty posts are not complaints,
    airline-slice AUC complaint vs praise 0.933 → 0.944), the written praise set, a brand's CSV."""
    posts = read_project_set()
    dev = read_dev_set()
    posts += [p for p in dev if not p.group.startswith("random_")]
    posts += [replace(p, source=RANDOM_SOURCE) for p in dev if p.group.startswith("random_")]
    posts += read_written_set()
    if brand_csv is not None:
        posts += read_labelled_csv(brand_csv, source="brand")
    return posts


def brand_posts_total(by_source: dict[str, Figures]) -> Figures:
    """The held-out figures of the posts written to brands by real customers: not the random tweets
    (addressed to no brand, nearly all confidently not complaints) nor the written praise."""
    total = Figures()
    for source, figures in by_source.items():
        if source not in NOT_A_MEASURE:
            total.merge(figures)
    return total


def write_json(figures: dict[str, float | int | None], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: figures[key] for key in KEYS}, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "data", nargs="?", type=Path, help="labelled CSV (header: text,label[,lang,followers,verified])"
    )
    parser.add_argument("--cv", action="store_true", help="cross-validate on the training data instead")
    parser.add_argument("--brand", type=Path, help="with --cv: also a brand's labelled CSV")
    parser.add_argument("--out", type=Path, default=Path("out/triage-eval.json"))
    args = parser.parse_args(argv)
    try:
        if args.cv:
            results = cross_validate(training_posts(args.brand))
            for source, figures in sorted(results.items()):
                print(figures.report(f"\n5-fold cross-validation, held-out {source} posts"))
            total = brand_posts_total(results)
            print(total.report("\n5-fold cross-validation, all held-out real posts to brands"))
            write_json(total.as_dict(), args.out)
        elif args.data:
            figures = measure(read_labelled_csv(args.data))
            print(figures.report(f"triage on {args.data}"))
            write_json(figures.as_dict(), args.out)
        else:
            parser.error("give a labelled CSV, or --cv")
    except (LabelledDataError, OSError) as exc:
        print(f"triage-eval: {exc}", file=sys.stderr)
        return 2
    print(f"\nfigures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
