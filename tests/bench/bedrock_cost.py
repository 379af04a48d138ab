"""Bedrock's cost per mention when the optional Bedrock triage is on (issue 14).

Each sample post goes through the real ``triage()`` with a ``BedrockClassifier`` whose client records
the Converse request the adapter builds (system prompt, the user message with the post and its
language) and answers as a model would. The recorded prompts are what Bedrock would bill as input;
posts that triage settles before asking (opt-out words, posts with no words) make no call. The
sample: the project's own labelled posts in tests/data/, or BENCH_BEDROCK_SAMPLE=file.csv (a `text`
column, optional `lang`), e.g. a brand's export or the shared development set (never shipped).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import yaml

from tests.bench.figures import BedrockPrice, Row, bedrock_cost_per_mention, estimate_tokens

ROOT = Path(__file__).resolve().parents[2]
# What a sound answer looks like (the adapter asks for exactly this JSON and nothing else).
ANSWER = json.dumps({"category": "complaint", "confidence": 0.92})


def sample_posts() -> list[tuple[str, str | None]]:
    override = os.environ.get("BENCH_BEDROCK_SAMPLE")
    files = [Path(override)] if override else [ROOT / "tests/data/triage_probe.csv"]
    posts: list[tuple[str, str | None]] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            posts += [(row["text"], row.get("lang") or None) for row in csv.DictReader(handle)]
    if not override:
        labelled = yaml.safe_load((ROOT / "tests/data/triage_labelled.yaml").read_text())
        posts += [(entry["text"], entry.get("lang")) for entry in labelled]
    return posts


class RecordingBedrock:
    """A bedrock-runtime client stand-in: keeps each Converse request, answers like the model."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def converse(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"output": {"message": {"role": "assistant", "content": [{"text": ANSWER}]}}}


def prompt_text(request: dict[str, Any]) -> str:
    """Every text Converse sends the model: the system blocks and the messages' text parts."""
    parts = [block["text"] for block in request.get("system", [])]
    parts += [
        part["text"] for message in request["messages"] for part in message["content"] if "text" in part
    ]
    return "\n".join(parts)


def bedrock_cost(prices: dict[str, Any]) -> tuple[list[Row], dict[str, Any]]:
    from turnaround.adapters.bedrock_triage import BedrockClassifier
    from turnaround.logic.triage import triage

    model_id = os.environ.get("BENCH_BEDROCK_MODEL_ID") or prices["bedrock_default_model_id"]
    listed = prices["bedrock_per_million_tokens"][model_id]
    price = BedrockPrice(model_id, listed["input"], listed["output"])
    chars_per_token = float(prices["bedrock_chars_per_token"])
    recorder = RecordingBedrock()
    classifier = BedrockClassifier(model_id, client=recorder)
    posts = sample_posts()
    for text, lang in posts:
        triage(text, lang=lang, classifier=classifier)
    prompts = [prompt_text(request) for request in recorder.requests]
    figures: dict[str, Any] = bedrock_cost_per_mention(
        prompts,
        answer_tokens=estimate_tokens(ANSWER, chars_per_token),
        max_tokens=classifier.max_tokens,
        calls_per_mention=len(prompts) / len(posts),
        price=price,
        chars_per_token=chars_per_token,
    )
    figures.update(
        {
            "model_id": model_id,
            "posts": len(posts),
            "calls": len(prompts),
            "chars_per_token": chars_per_token,
            "prompt_chars_mean": sum(len(p) for p in prompts) / len(prompts),
        }
    )
    rows: list[Row] = [
        (
            "Bedrock triage: tokens per call, input / output",
            f"{figures['input_tokens_per_call']:.0f} / {figures['output_tokens_per_call']:.0f}",
            f"estimate: chars / {chars_per_token:g}; bound {figures['input_tokens_per_call_upper_bound']:.0f}"
            f" / {classifier.max_tokens} (UTF-8 bytes / max_tokens); {len(prompts)} calls for "
            f"{len(posts)} sample posts",
        ),
        (
            "Bedrock triage: cost per mention / per 1,000 mentions",
            f"${figures['usd_per_mention']:.6f} / ${figures['usd_per_1000_mentions']:.3f}",
            f"{model_id} at ${price.input_per_million:g} / ${price.output_per_million:g} per M tokens; "
            f"bound ${figures['usd_per_1000_mentions_upper_bound']:.3f} per 1,000; off by default",
        ),
    ]
    return rows, figures
