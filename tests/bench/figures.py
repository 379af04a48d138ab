"""The pure arithmetic of `make bench`: floors and their verdicts, Lambda memory advice, cost per 1,000
complaints and Bedrock's cost per mention. No I/O and no timing here, so it is unit-tested
(tests/unit/test_bench_figures.py); bench.py measures and feeds it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Row = tuple[str, str, str]  # figure, value, floor or peer (with its verdict)


@dataclass(frozen=True)
class Floor:
    """A target a figure must meet: ``value <= limit`` (or ``>=`` when ``at_least``)."""

    limit: float
    unit: str = ""
    at_least: bool = False

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def verdict(self, value: float) -> str:
        """'ok' or 'FAIL', then the floor itself: what the table prints beside the figure."""
        sign = "≥" if self.at_least else "≤"
        return f"{'ok' if self.met(value) else 'FAIL'}  floor {sign} {self.limit:g}{self.unit}"


# Issue 17's floors, in one table so the bench, the README and the tests agree.
FLOORS: dict[str, Floor] = {
    "cold_start_ratio": Floor(1.8, "x import boto3"),
    "our_cpu_us_per_mention": Floor(1500, " µs"),
    "idle_poll_ms": Floor(5, " ms"),
    "storm_mentions_lost": Floor(0),
}

LAMBDA_SIZES_MB = (128, 256, 512, 1024, 1536, 2048, 3008)


def recommend_memory_mb(peak_mib: float, *, headroom: float = 0.4, smallest_mb: int = 256) -> int:
    """The smallest Lambda MemorySize (256 MB at least: below it the CPU share is too thin for a
    poll) that leaves ``headroom`` of it free above the measured peak."""
    for size in LAMBDA_SIZES_MB:  # Lambda's "MB" (MemorySize, Max Memory Used) is the MiB
        if size >= smallest_mb and peak_mib <= size * (1 - headroom):
            return size
    return LAMBDA_SIZES_MB[-1]


def lambda_gb_seconds(invocations_ms: Iterable[tuple[str, float]], memory_mb: Mapping[str, int]) -> float:
    """GB-seconds as Lambda bills them: each invocation's duration rounded up to the millisecond,
    times its function's configured memory."""
    return sum(math.ceil(ms) / 1000 * memory_mb[function] / 1024 for function, ms in invocations_ms)


@dataclass(frozen=True)
class RunCounts:
    """What one run used, as counted on the embedded cloud."""

    cases: int
    invocations_ms: tuple[tuple[str, float], ...]  # (function name, duration ms)
    state_transitions: int
    write_units: float
    read_units: float
    emails: int
    x_spend_usd: float


def cost_per_1000_complaints(
    run: RunCounts, prices: Mapping[str, float], memory_mb: Mapping[str, int]
) -> dict[str, float]:
    """USD per 1,000 complaints by service, scaled from one run's counts and the price lists."""
    per_1000 = 1000 / max(1, run.cases)
    return {
        "step_functions": run.state_transitions
        * per_1000
        / 1000
        * prices["step_functions_standard_per_1000_transitions"],
        "lambda": len(run.invocations_ms) * per_1000 / 1e6 * prices["lambda_per_million_requests"]
        + lambda_gb_seconds(run.invocations_ms, memory_mb) * per_1000 * prices["lambda_per_gb_second_x86"],
        "dynamodb": run.write_units * per_1000 / 1e6 * prices["dynamodb_on_demand_per_million_write_units"]
        + run.read_units * per_1000 / 1e6 * prices["dynamodb_on_demand_per_million_read_units"],
        "ses": run.emails * per_1000 / 1000 * prices["ses_per_1000_emails"],
        "x": run.x_spend_usd * per_1000,
    }


# --- Bedrock --------------------------------------------------------------------------------------


def estimate_tokens(text: str, chars_per_token: float) -> int:
    """A tokenizer-free estimate: characters over a published chars-per-token ratio, rounded up."""
    return math.ceil(len(text) / chars_per_token) if text else 0


def token_upper_bound(text: str) -> int:
    """A bound that needs no tokenizer: a byte-level BPE token covers at least one UTF-8 byte, so a
    text never costs more tokens than its bytes."""
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class BedrockPrice:
    model_id: str
    input_per_million: float
    output_per_million: float

    def call_usd(self, input_tokens: float, output_tokens: float) -> float:
        return (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / 1e6


def bedrock_cost_per_mention(
    prompts: list[str],
    *,
    answer_tokens: float,
    max_tokens: int,
    calls_per_mention: float,
    price: BedrockPrice,
    chars_per_token: float,
) -> dict[str, float]:
    """Tokens per call over the sample's real prompts (mean), and USD per mention and per 1,000
    mentions: at the chars-per-token estimate, and at the bound (input: UTF-8 bytes; output: the
    adapter's max_tokens). ``calls_per_mention``: the share of mentions that reach the classifier."""
    if not prompts:
        raise ValueError("no prompts: the sample reached the classifier for no post")
    estimated = sum(estimate_tokens(p, chars_per_token) for p in prompts) / len(prompts)
    bound = sum(token_upper_bound(p) for p in prompts) / len(prompts)
    per_call = price.call_usd(estimated, answer_tokens)
    per_call_bound = price.call_usd(bound, max_tokens)
    return {
        "input_tokens_per_call": estimated,
        "input_tokens_per_call_upper_bound": bound,
        "output_tokens_per_call": answer_tokens,
        "output_tokens_per_call_upper_bound": max_tokens,
        "calls_per_mention": calls_per_mention,
        "usd_per_mention": per_call * calls_per_mention,
        "usd_per_1000_mentions": per_call * calls_per_mention * 1000,
        "usd_per_1000_mentions_upper_bound": per_call_bound * calls_per_mention * 1000,
    }
