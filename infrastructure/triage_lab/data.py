"""Labelled posts from the three sources triage learns from, in one shape.

- A brand's labelled export, the documented CSV format (README, "Triage"): a header row, columns
  ``text`` and ``label`` (``complaint``, ``praise`` or ``neutral``), optional ``lang``,
  ``followers``, ``verified``. ``make triage-eval DATA=file.csv`` reads the same format.
- The project's own labelled set, ``tests/data/triage_labelled.yaml`` (complaint → complaint,
  praise → praise, anything else → neutral).
- The written set, ``written_posts.csv`` beside this module (the CSV format): praise to brands,
  complaints in customers' own words and sarcasm, a few questions; written for training because no
  labelled set the project may use has praise in it. Training data only, never a measure.
- The development set ``../shared/data/complaints-social-media/complaints-data.csv`` (no header:
  id, text, 1/0, domain), binary: 1 → complaint, 0 → neutral. Never copied into the repository.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT_SET = ROOT / "tests" / "data" / "triage_labelled.yaml"
# Posts to brands written for training (mostly praise): the development set has no praise label, and
# the project's set is the regression floor. Never a measure of triage.
WRITTEN_SET = Path(__file__).with_name("written_posts.csv")
DEV_SET = ROOT.parent / "shared" / "data" / "complaints-social-media" / "complaints-data.csv"
LABELS = ("complaint", "praise", "neutral")
WRITTEN_SOURCE = "written"
RANDOM_SOURCE = "random tweets"  # the dev set's tweets addressed to no brand (all labelled 0)
_TRUE = {"1", "true", "yes", "y", "t"}


class LabelledDataError(ValueError):
    """A labelled file is not in the documented format; the message says where."""


@dataclass(frozen=True)
class Labelled:
    text: str
    label: str  # complaint | praise | neutral
    source: str
    lang: str | None = None
    followers: int = 0
    verified: bool = False
    group: str = ""  # the dev set's domain (random_tweet, transport...): for per-group figures


def read_labelled_csv(path: Path, source: str | None = None) -> list[Labelled]:
    """Read the documented CSV format; a bad row is an error naming its line, never skipped."""
    rows: list[Labelled] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = {name.strip().lower() for name in reader.fieldnames or []}
        if not {"text", "label"} <= fields:
            raise LabelledDataError(f"{path}: the header must name columns 'text' and 'label' (got {fields})")
        for number, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            label = row["label"].lower()
            if label not in LABELS:
                raise LabelledDataError(f"{path}:{number}: label {label!r} is not one of {LABELS}")
            try:
                followers = int(float(row.get("followers") or 0))
            except ValueError as exc:
                raise LabelledDataError(f"{path}:{number}: followers {row['followers']!r}") from exc
            rows.append(
                Labelled(
                    text=row["text"],
                    label=label,
                    source=source or path.name,
                    lang=row.get("lang") or None,
                    followers=followers,
                    verified=row.get("verified", "").lower() in _TRUE,
                )
            )
    if not rows:
        raise LabelledDataError(f"{path}: no rows")
    return rows


def read_project_set(path: Path = PROJECT_SET) -> list[Labelled]:
    posts = yaml.safe_load(path.read_text())
    mapped = {"complaint": "complaint", "praise": "praise"}
    return [
        Labelled(
            text=p["text"], label=mapped.get(p["category"], "neutral"), source="project", lang=p.get("lang")
        )
        for p in posts
    ]


def read_written_set(path: Path = WRITTEN_SET) -> list[Labelled]:
    return read_labelled_csv(path, source=WRITTEN_SOURCE)


def read_dev_set(path: Path = DEV_SET) -> list[Labelled]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Labelled(
                text=text,
                label="complaint" if flag.strip() == "1" else "neutral",
                source="complaints-social-media",
                group=domain,
            )
            for _id, text, flag, domain in csv.reader(handle)
        ]
