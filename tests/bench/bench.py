"""`make bench`: performance and cost figures, each beside its floor or peer, printed as one table and
written to out/bench/<timestamp>.json so runs can be compared. Not a test: it asserts nothing.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out" / "bench"
X_PRICES = yaml.safe_load((ROOT / "infrastructure" / "x_price_list.yaml").read_text())
AWS_PRICES = yaml.safe_load((ROOT / "infrastructure" / "aws_price_list.yaml").read_text())
MEMORY_MB = 512  # template Globals MemorySize
ENV = {
    **os.environ,
    "PYTHONPATH": f"{ROOT / 'layers/turnaround/python'}:{ROOT / 'infrastructure'}:{ROOT}",
    "POWERTOOLS_SERVICE_NAME": "turnaround",
    "POWERTOOLS_METRICS_NAMESPACE": "Turnaround",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
os.environ.update({k: v for k, v in ENV.items() if k != "PYTHONPATH"})

Row = tuple[str, str, str]  # figure, value, floor or peer


def _mentions(
    count: int, *, start: datetime, conversation: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from x_emulator.world import TWITTER_EPOCH_MS, iso

    users = [
        {
            "id": str(20_000 + i),
            "username": f"user{i}",
            "name": f"User {i}",
            "public_metrics": {"followers_count": 100 + i},
            "verified": i % 50 == 0,
        }
        for i in range(200)
    ]
    texts = [
        "@acmeair my bag is lost and nobody answers",
        "@acmeair flight delayed again, any update?",
        "@acmeair thank you, great crew!",
        "@acmeair do you fly to Porto?",
    ]
    mentions = []
    for n in range(count):
        when = start + timedelta(milliseconds=n)
        tweet_id = str(((int(when.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) | n % 4096)
        mentions.append(
            {
                "id": tweet_id,
                "text": f"{texts[n % 4]} #{n}",
                "author_id": users[n % 200]["id"],
                "conversation_id": conversation or tweet_id,
                "created_at": iso(when),
                "entities": {"mentions": [{"username": "acmeair", "id": "100"}]},
            }
        )
    return mentions, users


def cpu_per_mention() -> tuple[list[Row], dict[str, Any]]:
    """Our own CPU per mention from page parsing to case decision (fakes stand in for X and DynamoDB)."""
    from tests.fakes import InMemoryStore, PagedX
    from turnaround.ingest import MentionIngestor

    results = {}
    for count in (100, 1_000, 10_000):
        mentions, users = _mentions(count, start=datetime(2026, 11, 23, tzinfo=UTC))
        x = PagedX({"id": "100", "username": "acmeair"}, mentions, users)
        ingestor = MentionIngestor(handle="acmeair", x=x, store=InMemoryStore())  # type: ignore[arg-type]
        started = time.process_time()
        result = ingestor.poll()
        spent = time.process_time() - started
        assert result.stored == count
        results[count] = spent / count * 1e6
    growth = results[10_000] / results[100]
    rows = [
        (f"our CPU per mention, {n:,} mentions", f"{us:.0f} µs", "linear: same per mention")
        for n, us in results.items()
    ]
    rows.append(("  cost per mention at 10,000 / at 100", f"{growth:.2f}x", "≈ 1x (≤ 1.5x counts as linear)"))
    return rows, {"cpu_us_per_mention": results, "growth_10k_over_100": growth}


def read_calls_and_storm() -> tuple[list[Row], dict[str, Any]]:
    """Through the emulator over HTTP with real tweepy; DynamoDB is in memory so the figures are X's."""
    from tests.fakes import InMemoryStore
    from turnaround.adapters.x_api import XApi, XCredentials
    from turnaround.ingest import MentionIngestor
    from x_emulator import SimulatedClock, XApiEmulator

    def emulator() -> XApiEmulator:
        em = XApiEmulator(clock=SimulatedClock(datetime(2026, 11, 23, 9, tzinfo=UTC)))
        em.add_user("acmeair", id="100", access_token="100-bench", access_token_secret="s")
        return em

    def api(em: XApiEmulator) -> XApi:
        return XApi(
            XCredentials(
                consumer_key=em.consumer_key,
                consumer_secret=em.consumer_secret,  # type: ignore[arg-type]
                access_token="100-bench",
                access_token_secret="s",
            ),  # type: ignore[arg-type]
            base_url=em.base_url,
        )

    with emulator() as em:
        for i in range(50):
            em.add_user(f"c{i}")
        store = InMemoryStore()
        for batch in range(2):  # two polls of 500: under X's 800-mention window, so nothing is lost
            for n in range(500):
                em.add_post(f"c{n % 50}", f"@acmeair my order {batch}-{n} is late")
            em.clock.advance(60)
            MentionIngestor(handle="acmeair", x=api(em), store=store).poll()  # type: ignore[arg-type]
        assert len(store.mentions) == 1_000
        read_calls = em.calls["mentions"]

    # The storm: 9,500 replies pile on under one complaint while 500 unrelated complaints arrive,
    # spread over 100 minutes, polled every minute (the template's default schedule).
    with emulator() as em:
        for i in range(300):
            em.add_user(f"s{i}")
        start = em.clock.now()
        root = em.add_post("s0", "@acmeair you lost my bag and my medication. Furious.", at=start)
        posted = 1
        for n in range(9_999):
            at = start + timedelta(seconds=(n + 1) * 0.6)
            if n % 19 == 0 and n < 9_500:
                em.add_post(f"s{n % 300}", f"@acmeair my flight {n} was cancelled and nobody helps", at=at)
            else:
                em.add_post(f"s{n % 300}", f"@acmeair @s0 same here #{n}", reply_to=root.id, at=at)
            posted += 1
        store, x = InMemoryStore(), api(em)
        tracemalloc.start()
        wall = time.perf_counter()
        for _ in range(101):
            em.clock.advance(60)
            MentionIngestor(handle="acmeair", x=x, store=store).poll()  # type: ignore[arg-type]
        wall = time.perf_counter() - wall
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    stored = len(store.mentions)
    rows = [
        ("X read calls per 1,000 new mentions", str(read_calls), "floor 10 at max_results=100"),
        (
            "storm: mentions posted / stored / lost",
            f"{posted:,} / {stored:,} / {posted - stored:,}",
            "0 lost",
        ),
        (
            "storm: incidents opened (one ack each)",
            f"{len(store.cases)}",
            "1 pile-on + its unrelated complaints, not 10,000",
        ),
        ("storm: wall time, 101 polls", f"{wall:.1f} s", "< 1 min of Lambda per simulated minute"),
        ("storm: peak traced memory", f"{peak:.1f} MiB", f"< {MEMORY_MB} MB Lambda memory"),
    ]
    return rows, {
        "read_calls_per_1000": read_calls,
        "storm": {
            "posted": posted,
            "stored": stored,
            "incidents": len(store.cases),
            "wall_s": wall,
            "peak_mib": peak,
        },
    }


def demo_run() -> tuple[list[Row], dict[str, Any]]:
    """Spend per complaint, ack latency and AWS cost, from the demo scenario on the embedded cloud."""
    from local_cloud.runner import DEMO, LocalRun

    result = LocalRun(DEMO, out=OUT / "demo").run()
    state = result.emulator_state
    cases = result.cases
    by_path: dict[str, list[float]] = {}
    for case in cases:
        path = f"{case.get('route')}/{case.get('outcome')}"
        by_path.setdefault(path, []).append(_case_spend(case, state))
    rows: list[Row] = [
        (
            f"X spend per complaint, {path}",
            f"${statistics.mean(v):.3f}",
            "≈ $0.18 research estimate for the full offline path",
        )
        for path, v in sorted(by_path.items())
    ]
    latencies = sorted(
        (
            datetime.fromisoformat(c["first_response_at"]) - datetime.fromisoformat(c["opened_at"])
        ).total_seconds()
        / 600  # the demo's timestamps are simulated at 600 simulated seconds per real second
        for c in cases
        if c.get("first_response_at")
    )
    p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]
    rows.append(
        (
            "ack latency from the polling tick, p50 / p95",
            f"{statistics.median(latencies):.2f} / {p95:.2f} s",
            "same poll cycle (< 60 s)",
        )
    )
    invocations = len(result.invocations_ms)
    gb_seconds = sum(math.ceil(ms) for _, ms in result.invocations_ms) / 1000 * MEMORY_MB / 1024
    emails = len(result.emails)
    per_1000 = 1000 / max(1, len(cases))
    cost = {
        "step_functions": result.state_transitions
        * per_1000
        / 1000
        * AWS_PRICES["step_functions_standard_per_1000_transitions"],
        "lambda": invocations * per_1000 / 1e6 * AWS_PRICES["lambda_per_million_requests"]
        + gb_seconds * per_1000 * AWS_PRICES["lambda_per_gb_second_x86"],
        "ses": emails * per_1000 / 1000 * AWS_PRICES["ses_per_1000_emails"],
    }
    rows.append(
        (
            "AWS cost per 1,000 complaints (SFN + Lambda + SES)",
            f"${sum(cost.values()):.2f}",
            " + ".join(f"{k} ${v:.2f}" for k, v in cost.items()),
        )
    )
    rows.append(
        (
            "  (polls included; DynamoDB not metered by moto)",
            f"{invocations} invocations, "
            f"{result.state_transitions} transitions, {emails} emails for {len(cases)} cases",
            "",
        )
    )
    return rows, {
        "spend_by_path": {k: statistics.mean(v) for k, v in by_path.items()},
        "ack_latency_s": latencies,
        "aws_cost_per_1000": cost,
        "x_calls": state["calls"],
        "violations": len(state["violations"]),
    }


def _case_spend(case: dict[str, Any], state: dict[str, Any]) -> float:
    """Price what X billed for one case: its mentions read, our replies, DMs both ways, retweets."""
    mentions = int(case.get("mention_count", 1))
    replies = sum(1 for p in state["posts_created"] if p["in_reply_to_tweet_id"] == case["root_tweet_id"])
    dms_out = sum(1 for d in state["dms_sent"] if d["recipient_id"] == case["customer_id"])
    retweets = 1 if case.get("amplified_at") else 0
    dm_reads = dms_out * 2 if case.get("dm_open") else 0  # each DM read back once, and the customer's
    return (
        mentions * X_PRICES["owned_read"]
        + replies * X_PRICES["summoned_reply"]
        + dms_out * X_PRICES["dm_create"]
        + dm_reads * X_PRICES["dm_event_read"]
        + retweets * X_PRICES["retweet"]
    )


def imports_and_sizes() -> tuple[list[Row], dict[str, Any]]:
    python = sys.executable

    def cold(module: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([python, "-c", f"import {module}"], env=ENV, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        return min(times)

    baseline = cold("boto3")
    rows: list[Row] = [("cold import: boto3 (peer)", f"{baseline * 1000:.0f} ms", "")]
    figures: dict[str, Any] = {"boto3_ms": baseline * 1000}
    for function in sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()):
        seconds = cold(f"functions.{function}.app")
        figures[f"{function}_ms"] = seconds * 1000
        rows.append(
            (f"cold import: {function}", f"{seconds * 1000:.0f} ms", f"{seconds / baseline:.1f}x boto3")
        )

    def size(path: Path) -> int:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)

    dependencies = 0
    for line in (ROOT / "layers/dependencies/requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            dist = metadata.distribution(line.split("==")[0])
            dependencies += sum(
                (f.locate().stat().st_size for f in dist.files or [] if f.locate().exists()), 0
            )
    layers = size(ROOT / "layers/turnaround") + dependencies
    for function in sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()):
        total = size(ROOT / "functions" / function) + layers
        rows.append((f"unzipped size: {function} + layers", f"{total / 2**20:.1f} MiB", "limit 250 MiB"))
        figures[f"{function}_unzipped_bytes"] = total
    return rows, figures


def main() -> int:
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    for name, measure in (
        ("cpu", cpu_per_mention),
        ("x", read_calls_and_storm),
        ("demo", demo_run),
        ("imports", imports_and_sizes),
    ):
        print(f"measuring {name}…", file=sys.stderr, flush=True)
        section_rows, section = measure()
        rows += section_rows
        figures[name] = section
    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure'.ljust(width)}  {'value':>28}  floor / peer")
    for figure, value, floor in rows:
        print(f"{figure.ljust(width)}  {value:>28}  {floor}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
