"""``make train-triage``: fit the complaint model and write its weights and model card into the layer.

python -m triage_lab.train [--brand export.csv]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage_lab.evaluate import Figures, cross_validate, measure, training_posts
from triage_lab.fit import DROPPED_GOAL, RECALL_GOAL, fit, prepare
from turnaround.logic.triage_model import WEIGHTS

CARD = WEIGHTS.with_name("triage_model_card.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brand", type=Path, help="a brand's labelled CSV export (README, 'Triage')")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validated figures")
    args = parser.parse_args(argv)
    posts = training_posts(args.brand)
    model = fit(prepare(posts))
    sources = Counter((p.source, p.label) for p in posts)
    cv = {} if args.no_cv else cross_validate(posts)
    total = Figures()
    for figures in cv.values():
        total.merge(figures)
    model.card = {
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "training_rows": {f"{s} {lab}": n for (s, lab), n in sorted(sources.items())},
        "thresholds": {"complaint": model.thresholds.complaint, "unsure": model.thresholds.unsure},
        "cross_validation": {s: f.as_dict() for s, f in sorted(cv.items())} | {"all": total.as_dict()},
    }
    model.save()
    weights_kb = WEIGHTS.stat().st_size / 1024
    on_training = measure([p for p in posts if p.source == "project"], model).as_dict()
    CARD.write_text(_card(model.card, weights_kb, len(model.weights), on_training))
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
    ]
    head = "| held-out posts | " + " | ".join(keys) + " |\n|" + " --- |" * (len(keys) + 1) + "\n"

    def cell(k: str, v: float | int | None) -> str:
        return "n/a" if v is None else (str(v) if k == "n" else f"{v:.3f}")

    return head + "".join(
        f"| {name} | " + " | ".join(cell(k, figs[k]) for k in keys) + " |\n" for name, figs in rows.items()
    )


def _card(card: dict[str, Any], weights_kb: float, n_weights: int, on_training: dict[str, Any]) -> str:
    training = "\n".join(f"- {name}: {n}" for name, n in card["training_rows"].items())
    cv = card["cross_validation"]
    return f"""# Triage complaint model: model card

Written by `make train-triage` ({card["trained_at"]}). Weights: `triage_weights.json.gz`
({weights_kb:.0f} KB, {n_weights:,} hashed weights).

## What it is
Logistic regression (AdaGrad SGD, {__import__("triage_lab.fit").fit.EPOCHS} epochs, L2 1e-5, pure Python)
over hashed (2^20) word unigrams, bigrams, negated words, character 3-5-grams of words, plus VADER
positive/negative, '?', '!!', eye-roll emoji, smiles, link, shouting, length and a "positive words
around a negation" cue. Handles are dropped, URLs and digits normalised. Output: P(complaint).
English only: posts X tags with another language are read by `triage_languages.py` or go to a person.

## Thresholds
- complaint ≥ {card["thresholds"]["complaint"]}: opens a case (chosen so {RECALL_GOAL:.0%} of complaints
  do on 3-fold out-of-fold scores)
- unsure ≥ {card["thresholds"]["unsure"]}: a person decides (chosen so at most {DROPPED_GOAL:.1%} of
  complaints fall below it)
- below: not a complaint, stored with its label

## Training data
{training}

`complaints-social-media` is the development set of Preoțiuc-Pietro, Găman and Aletras,
"Automatically Identifying Complaints in Social Media" (ACL 2019), from
github.com/danielpreotiuc/complaints-social-media (no licence stated; cite the paper). Its brand-
addressed tweets are used (label 1 → complaint, 0 → neutral); its random tweets are not. The data
itself is not shipped; only these weights. `project` is `tests/data/triage_labelled.yaml`.

## Figures (5-fold cross-validation: every post triaged by a model fitted without it)
{_figures_table(cv) if cv else "(skipped: --no-cv)"}
On the project's labelled set with this model (trained on it, so a regression floor, not a
measure): {on_training}

Not measured here: the posts of a particular brand. Measure them with
`make triage-eval DATA=your-labelled.csv` and retrain with `make train-triage BRAND_DATA=...`.
"""


if __name__ == "__main__":
    sys.exit(main())
