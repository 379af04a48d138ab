"""`make bench`'s arithmetic: floors and verdicts, memory advice, cost per 1,000 complaints, Bedrock's
cost per mention. Pure functions; nothing here is timed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bench.bedrock_cost import RecordingBedrock, prompt_text
from tests.bench.figures import (
    FLOORS,
    BedrockPrice,
    Floor,
    RunCounts,
    bedrock_cost_per_mention,
    cost_per_1000_complaints,
    estimate_tokens,
    lambda_gb_seconds,
    recommend_memory_mb,
    token_upper_bound,
)

ROOT = Path(__file__).resolve().parents[2]
PRICES = {
    "step_functions_standard_per_1000_transitions": 0.025,
    "lambda_per_million_requests": 0.20,
    "lambda_per_gb_second_x86": 0.0000166667,
    "dynamodb_on_demand_per_million_write_units": 0.625,
    "dynamodb_on_demand_per_million_read_units": 0.125,
    "ses_per_1000_emails": 0.10,
}


def test_issue_17s_floors_and_their_verdicts() -> None:
    assert FLOORS["cold_start_ratio"].limit == 1.8
    assert FLOORS["our_cpu_us_per_mention"].limit == 1500
    assert FLOORS["idle_poll_ms"].limit == 5
    assert FLOORS["cold_start_ratio"].verdict(1.8).startswith("ok")
    assert FLOORS["cold_start_ratio"].verdict(1.81).startswith("FAIL")
    assert "floor ≤ 1.8x import boto3" in FLOORS["cold_start_ratio"].verdict(2.4)
    at_least = Floor(0.8, at_least=True)
    assert at_least.met(0.8) and not at_least.met(0.79)
    assert at_least.verdict(0.5) == "FAIL  floor ≥ 0.8"


@pytest.mark.parametrize(
    ("peak_mib", "recommended"),
    [(60, 256), (94, 256), (153.6, 256), (154, 512), (300, 512), (400, 1024), (5000, 3008)],
)
def test_memory_is_the_smallest_size_of_at_least_256_mb_with_40_percent_free(
    peak_mib: float, recommended: int
) -> None:
    assert recommend_memory_mb(peak_mib) == recommended


def test_lambda_bills_each_invocation_rounded_up_to_the_millisecond_at_its_memory() -> None:
    invocations = [("poller", 999.2), ("poller", 0.1), ("workflow", 2000.0)]
    gb_s = lambda_gb_seconds(invocations, {"poller": 256, "workflow": 512})
    assert gb_s == pytest.approx(1.0 * 0.25 + 0.001 * 0.25 + 2.0 * 0.5)


def test_cost_per_1000_complaints_scales_one_runs_counts() -> None:
    run = RunCounts(
        cases=10,
        invocations_ms=(("poller", 1000.0), ("workflow", 1000.0)),
        state_transitions=200,
        write_units=1000,
        read_units=2000,
        emails=30,
        x_spend_usd=0.5,
    )
    cost = cost_per_1000_complaints(run, PRICES, {"poller": 1024, "workflow": 512})
    # x100: 20,000 transitions, 200 invocations, 150 GB-s, 100k WRU, 200k RRU, 3,000 emails, $50 of X.
    assert cost["step_functions"] == pytest.approx(0.5)
    assert cost["lambda"] == pytest.approx(200 / 1e6 * 0.20 + 150 * 0.0000166667)
    assert cost["dynamodb"] == pytest.approx(0.1 * 0.625 + 0.2 * 0.125)
    assert cost["ses"] == pytest.approx(0.3)
    assert cost["x"] == pytest.approx(50)


def test_tokens_are_estimated_without_a_tokenizer_and_bounded_by_bytes() -> None:
    assert estimate_tokens("", 3.5) == 0
    assert estimate_tokens("abcdefg", 3.5) == 2
    assert estimate_tokens("abcdefgh", 3.5) == 3
    assert token_upper_bound("déjà vu 😤") == len("déjà vu 😤".encode())
    assert token_upper_bound("plain") == 5


def test_bedrock_cost_per_mention_from_prompts_and_prices() -> None:
    price = BedrockPrice("model", input_per_million=0.25, output_per_million=1.25)
    figures = bedrock_cost_per_mention(
        ["a" * 350, "b" * 700],
        answer_tokens=13,
        max_tokens=60,
        calls_per_mention=0.5,
        price=price,
        chars_per_token=3.5,
    )
    assert figures["input_tokens_per_call"] == 150
    assert figures["input_tokens_per_call_upper_bound"] == 525
    per_call = (150 * 0.25 + 13 * 1.25) / 1e6
    assert figures["usd_per_mention"] == pytest.approx(per_call * 0.5)
    assert figures["usd_per_1000_mentions"] == pytest.approx(per_call * 500)
    assert figures["usd_per_1000_mentions_upper_bound"] == pytest.approx((525 * 0.25 + 60 * 1.25) / 1e6 * 500)
    with pytest.raises(ValueError, match="no prompts"):
        bedrock_cost_per_mention(
            [], answer_tokens=1, max_tokens=1, calls_per_mention=0, price=price, chars_per_token=4
        )


def test_the_billed_prompt_is_what_the_adapter_sends_to_converse() -> None:
    from turnaround.adapters.bedrock_triage import SYSTEM, BedrockClassifier

    recorder = RecordingBedrock()
    answer = BedrockClassifier("model", client=recorder)("my bag is lost", "en")
    assert answer is not None and answer.category == "complaint"
    [request] = recorder.requests
    text = prompt_text(request)
    assert text.startswith(SYSTEM) and text.endswith("lang=en\npost: my bag is lost")


def test_the_price_list_prices_the_documented_bedrock_model() -> None:
    prices = yaml.safe_load((ROOT / "infrastructure/aws_price_list.yaml").read_text())
    model = prices["bedrock_default_model_id"]
    assert set(prices["bedrock_per_million_tokens"][model]) == {"input", "output"}
    assert prices["bedrock_chars_per_token"] > 0


def test_a_base_commits_cold_starts_are_ratios_over_the_pooled_peer() -> None:
    from tests.bench.coldstart import _before_rows

    before: dict[str, list[dict[str, Any]]] = {
        "action_page": [{"init_s": 0.3, "total_s": 0.4}, {"init_s": 0.25, "total_s": 0.3}],
        "dm_mail": [{"error": "exit 1: ValidationError"}],  # never ran: the row says why
    }
    peer: list[dict[str, Any]] = [{"init_s": 0.2}, {"init_s": 0.15}]
    rows = _before_rows(before, peer)
    assert rows["action_page"] == pytest.approx(2.0) and rows["dm_mail"] == "error: exit 1: ValidationError"
