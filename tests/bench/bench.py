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
from collections import Counter
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
BENCH = ROOT / "infrastructure" / "scenarios" / "bench.yaml"
COMPLAINTS = [
    "@acmeair my bag is lost and nobody answers",
    "@acmeair flight delayed again, any update?",
    "@acmeair you charged me twice for one booking",
    "@acmeair my duty-free order is late, tracking stuck",
]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


class Driver:
    """Drives a deployment on the embedded cloud the way AWS would: the mention poller's schedule
    each simulated minute, then the table's stream to the dispatcher (StartExecution is recorded,
    not run), then, if asked, each new workflow's first state, Acknowledge, through the
    WorkflowTasks function."""

    def __init__(self, cloud: Any) -> None:
        from local_cloud.cloud import REGION
        from local_cloud.streams import StreamDeliveries

        self.cloud = cloud
        self.poller = cloud.stack.functions["MentionPollerFunction"].name
        self.tasks = cloud.stack.functions["WorkflowTasksFunction"].name
        self.schedule = next(rule for rule, _, function in cloud.stack.schedules if function == self.poller)
        self.deliveries = StreamDeliveries.start(cloud.stack, REGION)
        self.started: set[str] = set()
        self.ack_latency_s: list[float] = []
        self.ack_errors: list[str] = []
        self.poll_peak_mib = 0.0

    def tick(self, *, acknowledge: bool = False, trace_memory: bool = False) -> None:
        import boto3

        from local_cloud.cloud import REGION, scheduled_event

        cloud = self.cloud
        cloud.emulator.clock.advance(60)
        seen_at = time.perf_counter()
        event = scheduled_event(self.schedule, cloud.emulator.clock.now())
        if trace_memory:  # the poll's own high-water mark: only what it allocates is traced
            tracemalloc.start()
        _, errored = cloud.lambdas.invoke(self.poller, event)
        if trace_memory:
            self.poll_peak_mib = max(self.poll_peak_mib, tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        assert not errored, cloud.lambdas.errors[-1]
        self.deliveries.pump(cloud.lambdas, REGION)
        if not acknowledge:
            return
        sfn = boto3.client("stepfunctions")
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=cloud.stack.state_machine_arn)
        for execution in (e for page in pages for e in page["executions"]):
            if execution["executionArn"] in self.started:
                continue
            self.started.add(execution["executionArn"])
            case_id = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])[
                "case_id"
            ]
            result, errored = cloud.lambdas.invoke(self.tasks, {"case_id": case_id, "task": "acknowledge"})
            if errored:
                self.ack_errors.append(result["errorType"])
            else:
                self.ack_latency_s.append(time.perf_counter() - seen_at)


def _post_complaints(emulator: Any, count: int, *, every_s: float, start: datetime) -> None:
    for n in range(count):
        emulator.add_post(
            f"c{n % 300 + 1}",
            f"{COMPLAINTS[n % 4]} (ref {n})",
            at=start + timedelta(seconds=(n + 1) * every_s),
        )


def cpu_per_mention() -> tuple[list[Row], dict[str, Any]]:
    """Our CPU per mention from poll to workflow start on the embedded cloud: the thread CPU of the
    poller and dispatcher invocations minus what moto spent answering them (the emulator serves from
    its own threads). Complaints arrive 100 a minute; the poller runs every minute."""
    from local_cloud.metering import MotoCpu
    from local_cloud.runner import LocalRun

    results: dict[int, float] = {}
    figures: dict[str, Any] = {}
    for count in (100, 1_000, 10_000):
        with (
            LocalRun(BENCH, out=OUT / "cloud").deployed(execute_workflows=False) as cloud,
            MotoCpu().active() as moto,
        ):
            _post_complaints(cloud.emulator, count, every_s=0.6, start=cloud.emulator.clock.now())
            driver = Driver(cloud)
            for _ in range(count // 100 + 1):
                driver.tick()
            ours = {
                "poller": driver.poller,
                "dispatcher": cloud.stack.functions["CaseDispatcherFunction"].name,
            }
            cpu = sum(ms for function, ms in cloud.lambdas.cpu_ms if function in ours.values())
            moto_ms = sum(ms for function, ms in moto.ms.items() if function in ours.values())
            stored = len(_items(cloud.stack, "mention"))
            started = len(_executions(cloud.stack))
            results[count] = (cpu - moto_ms) / count * 1000
            figures[str(count)] = {
                "our_cpu_us_per_mention": results[count],
                "invocation_cpu_ms": cpu,
                "moto_cpu_ms": moto_ms,
                "stored": stored,
                "workflows_started": started,
                "x_read_calls": cloud.emulator.calls["mentions"],
            }
            if count == 1_000:
                read_calls = cloud.emulator.calls["mentions"]
            assert stored == count, f"{count - stored} mentions lost"
    growth = results[10_000] / results[100]
    rows: list[Row] = [
        (
            "X read calls per 1,000 new mentions",
            f"{read_calls}",
            "floor 10 at max_results=100 (11 polls: the last finds nothing new)",
        )
    ]
    rows += [
        (
            f"our CPU per mention, poll to workflow start, {n:,}",
            f"{us:.0f} µs",
            f"moto {figures[str(n)]['moto_cpu_ms'] / n * 1000:.0f} µs subtracted; "
            f"{figures[str(n)]['workflows_started']:,} workflows",
        )
        for n, us in results.items()
    ]
    rows.append(("  cost per mention at 10,000 / at 100", f"{growth:.2f}x", "≈ 1x (≤ 1.5x counts as linear)"))
    return rows, {"by_count": figures, "growth_10k_over_100": growth, "read_calls_per_1000": read_calls}


def _items(stack: Any, kind: str) -> list[dict[str, Any]]:
    import boto3

    from local_cloud.narration import scan

    table = boto3.resource("dynamodb").Table(stack.outputs["TableName"])
    return [item for item in scan(table) if item.get("type") == kind]


def _executions(stack: Any) -> list[dict[str, Any]]:
    import boto3

    pages = (
        boto3.client("stepfunctions")
        .get_paginator("list_executions")
        .paginate(stateMachineArn=stack.state_machine_arn)
    )
    return [e for page in pages for e in page["executions"]]


def storm() -> tuple[list[Row], dict[str, Any]]:
    """10,000 mentions in 100 minutes on the embedded cloud: 9,500 replies pile on under one
    complaint while 500 unrelated complaints arrive. Each workflow's Acknowledge runs as it starts."""
    from local_cloud.loop import expected_mentions
    from local_cloud.runner import LocalRun

    with LocalRun(BENCH, out=OUT / "cloud").deployed(execute_workflows=False) as cloud:
        emulator = cloud.emulator
        start = emulator.clock.now()
        root = emulator.add_post("c1", "@acmeair you lost my bag and my medication. Furious.", at=start)
        for n in range(9_999):
            at = start + timedelta(seconds=(n + 1) * 0.6)
            if n % 19 == 0 and n < 9_500:
                emulator.add_post(
                    f"c{n % 300 + 1}", f"@acmeair my flight {n} was cancelled and nobody helps", at=at
                )
            else:
                emulator.add_post(f"c{n % 300 + 1}", f"@acmeair @c1 same here #{n}", reply_to=root.id, at=at)
        driver = Driver(cloud)
        wall = time.perf_counter()
        for _ in range(101):
            driver.tick(acknowledge=True, trace_memory=True)
        wall = time.perf_counter() - wall
        posted = len(expected_mentions(emulator))
        stored = len(_items(cloud.stack, "mention"))
        cases = _items(cloud.stack, "case")
        state = emulator.state()
        replies = Counter(
            p["in_reply_to_tweet_id"] for p in state["posts_created"] if p["in_reply_to_tweet_id"]
        )
        pile_on = next((c for c in cases if c.get("root_tweet_id") == root.id), {})
    latency = driver.ack_latency_s
    rows: list[Row] = [
        (
            "storm: mentions posted / stored / lost",
            f"{posted:,} / {stored:,} / {posted - stored:,}",
            "0 lost",
        ),
        (
            "storm: incidents opened / acks posted",
            f"{len(cases):,} / {sum(replies.values()):,}",
            "one each: the pile-on and its 500 unrelated complaints, not 10,000",
        ),
        (
            "storm: pile-on size / replies to it",
            f"{int(pile_on.get('mention_count', 0)):,} / {replies[root.id]}",
            "one reply for the whole pile-on",
        ),
        (
            "storm: acks refused or failed; X rule violations",
            f"{len(driver.ack_errors)}; {len(state['violations'])}",
            "0; 0",
        ),
        ("storm: wall time, 101 polls with acks", f"{wall:.1f} s", "< 6,060 s: keeps up with the minute"),
        (
            "storm: peak memory of one poll",
            f"{driver.poll_peak_mib:.1f} MiB",
            f"< {MEMORY_MB} MB Lambda memory",
        ),
        (
            "ack latency from the polling tick, p50 / p95",
            f"{statistics.median(latency):.2f} / {_percentile(latency, 0.95):.2f} s",
            f"same poll cycle (< 60 s); {len(latency)} acks, in-process, Step Functions' start not modelled",
        ),
    ]
    return rows, {
        "posted": posted,
        "stored": stored,
        "incidents": len(cases),
        "acks": sum(replies.values()),
        "pile_on_mentions": int(pile_on.get("mention_count", 0)),
        "replies_to_pile_on": replies[root.id],
        "ack_errors": Counter(driver.ack_errors),
        "violations": state["violations"],
        "wall_s": wall,
        "poll_peak_mib": driver.poll_peak_mib,
        "ack_latency_s": {
            "p50": statistics.median(latency),
            "p95": _percentile(latency, 0.95),
            "n": len(latency),
        },
    }


def demo_run() -> tuple[list[Row], dict[str, Any]]:
    """Spend per complaint, ack latency and AWS cost, from the demo scenario on the embedded cloud."""
    from local_cloud.metering import DynamoDBMeter
    from local_cloud.runner import DEMO, LocalRun

    with DynamoDBMeter().active() as dynamodb:
        result = LocalRun(DEMO, out=OUT / "demo").run()
    state = result.emulator_state
    cases = result.cases
    by_path: dict[str, list[float]] = {}
    for case in cases:
        path = f"{case.get('route')}/{case.get('outcome')}"
        by_path.setdefault(path, []).append(_case_spend(case, state))
    rows: list[Row] = [
        (
            f"X spend per complaint, {path} (the run's ≤ 8 simulated hours)",
            f"${statistics.mean(v):.3f}",
            "billed concerning the customer"
            + ("; research estimate ≈ $0.18 with DMs" if path.startswith("offline") else ""),
        )
        for path, v in sorted(by_path.items())
    ]
    billed = sorted(state["spend_by_operation"].items(), key=lambda kv: -kv[1])
    rows.append(
        (
            "X spend per complaint, whole demo billed / cases",
            f"${state['spend_usd'] / max(1, len(cases)):.3f}",
            ", ".join(f"{operation} ${usd:.3f}" for operation, usd in billed),
        )
    )
    latencies = sorted(
        (
            datetime.fromisoformat(c["first_response_at"]) - datetime.fromisoformat(c["opened_at"])
        ).total_seconds()
        / 600  # the demo's timestamps are simulated at 600 simulated seconds per real second
        for c in cases
        if c.get("first_response_at")
    )
    rows.append(
        (
            "demo: first response from the polling tick, p50 / p95",
            f"{statistics.median(latencies):.2f} / {_percentile(latencies, 0.95):.2f} s",
            f"same poll cycle (< 60 s); {len(latencies)} cases through the real ASL",
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
        "dynamodb": dynamodb.write_units
        * per_1000
        / 1e6
        * AWS_PRICES["dynamodb_on_demand_per_million_write_units"]
        + dynamodb.read_units * per_1000 / 1e6 * AWS_PRICES["dynamodb_on_demand_per_million_read_units"],
        "ses": emails * per_1000 / 1000 * AWS_PRICES["ses_per_1000_emails"],
    }
    rows.append(
        (
            "AWS cost per 1,000 complaints (SFN + Lambda + DynamoDB + SES)",
            f"${sum(cost.values()):.2f}",
            " + ".join(f"{k} ${v:.2f}" for k, v in cost.items()),
        )
    )
    rows.append(
        (
            "  counted in the demo (polls included)",
            f"{invocations} invocations, {result.state_transitions} transitions, "
            f"{dynamodb.write_units:.0f} WRU + {dynamodb.read_units:.0f} RRU, "
            f"{emails} emails, {len(cases)} cases",
            "",
        )
    )
    window_rows, window = dm_window_rows(result)
    rows[len(by_path) : len(by_path)] = window_rows
    return rows, {
        "dm_window": window,
        "spend_by_path": {k: statistics.mean(v) for k, v in by_path.items()},
        "x_spend_usd": state["spend_usd"],
        "x_spend_by_operation": state["spend_by_operation"],
        "ack_latency_s": latencies,
        "aws_cost_per_1000": cost,
        "dynamodb": {
            "write_units": dynamodb.write_units,
            "read_units": dynamodb.read_units,
            "calls": dynamodb.calls,
        },
        "x_calls": state["calls"],
        "violations": len(state["violations"]),
    }


def dm_window_reads(
    scenario: Path, dms_sent: list[dict[str, Any]], *, days: int = 31, page_of_100: bool = False
) -> tuple[dict[str, float], float]:
    """DM-read spend over X's 30-day DM window (31 UTC days), polled hourly (billing is per event per
    UTC day, so the poll rate changes nothing): the customers' DMs from the scenario, ours as sent in
    the run. ``page_of_100`` replays the poller before issue 13 (one page of 100 each poll); otherwise
    the project's DmIngestor (small pages up to the first known event).

    Returns the spend per customer (each event's reads, billed concerning its customer) and the
    handle's baseline: the one known event that stops each quiet pass, re-read once a UTC day. That
    costs the handle $0.01 a day whatever the volume, so it is not a per-complaint cost."""
    import boto3
    from moto import mock_aws

    from tests.helpers import create_table_from_template
    from turnaround.adapters.x_api import XApi, XCredentials
    from turnaround.dal.repositories import Repositories
    from turnaround.logic.ingest.dms import DmIngestor
    from turnaround.models.playbook import load_playbook
    from x_emulator import load_scenario

    spec = yaml.safe_load(scenario.read_text())
    spec = {**spec, "posts": [], "faults": []}
    emulator, _ = load_scenario(spec)
    for dm in dms_sent:
        emulator.world.add_dm(
            dm["sender_id"], dm["recipient_id"], dm["text"], at=datetime.fromisoformat(dm["created_at"])
        )
    brand = next(u for u in emulator.world.users.values() if u.access_token)
    credentials = XCredentials.model_validate(
        {
            "consumer_key": emulator.consumer_key,
            "consumer_secret": emulator.consumer_secret,
            "access_token": brand.access_token,
            "access_token_secret": brand.access_token_secret,
        }
    )
    with emulator, mock_aws():
        x = XApi(credentials, base_url=emulator.base_url, timeout=5)
        create_table_from_template(boto3.client("dynamodb", region_name="us-east-1"), "bench-dms")
        ingestor = DmIngestor(
            handle=brand.username,
            x=x,
            store=Repositories("bench-dms"),
            playbook=load_playbook(),
            clock=emulator.clock.now,
        )
        for _ in range(days * 24):
            if page_of_100:
                x.dm_events_page(max_results=100)
            else:
                ingestor.poll()
            emulator.clock.advance(3600)
    price = float(X_PRICES["dm_event_read"])
    events = {e.id: e for e in emulator.world.dms}
    by_customer: Counter[str] = Counter()
    baseline = 0.0
    for day, event_id in emulator.ledger.billed_reads:
        event = events.get(event_id)
        if event is None:
            continue
        customer = event.recipient_id if event.sender_id == brand.id else event.sender_id
        stop_event = not page_of_100 and day != event.created_at.astimezone(UTC).strftime("%Y-%m-%d")
        if stop_event:
            baseline += price
        else:
            by_customer[customer] += price  # type: ignore[assignment]
    return dict(by_customer), baseline


def dm_window_rows(result: Any, *, days: int = 31) -> tuple[list[Row], dict[str, Any]]:
    """X spend per complaint and path with DM reads over the whole 30-day window, now and before."""
    from local_cloud.runner import DEMO

    state = result.emulator_state
    now, baseline = dm_window_reads(DEMO, state["dms_sent"], days=days)
    before, _ = dm_window_reads(DEMO, state["dms_sent"], days=days, page_of_100=True)
    by_path: dict[str, list[tuple[float, float]]] = {}
    for case in result.cases:
        customer = case["customer_id"]
        in_run = float(state.get("spend_by_user_operation", {}).get(f"{customer} dm_event_read", 0.0))
        base = _case_spend(case, state) - in_run
        path = f"{case.get('route')}/{case.get('outcome')}"
        by_path.setdefault(path, []).append((base + now.get(customer, 0.0), base + before.get(customer, 0.0)))
    rows: list[Row] = [
        (
            f"X spend per complaint over the 30-day DM window, {path}",
            f"${statistics.mean(v[0] for v in values):.3f}",
            f"before (a page of 100 DM events each poll): ${statistics.mean(v[1] for v in values):.3f}",
        )
        for path, values in sorted(by_path.items())
    ]
    rows.append(
        (
            "X DM reads per handle, whatever the volume (the event that stops a pass)",
            f"${baseline / days:.3f}/day",
            "before: none of its own, but every event re-read each day it stays in the 30-day window",
        )
    )
    return rows, {
        "dm_reads_30_days_by_customer": now,
        "dm_reads_30_days_by_customer_before": before,
        "dm_reads_baseline_per_day": baseline / days,
        "spend_30_days_by_path": {k: [v[0] for v in vs] for k, vs in by_path.items()},
        "spend_30_days_by_path_before": {k: [v[1] for v in vs] for k, vs in by_path.items()},
    }


def _case_spend(case: dict[str, Any], state: dict[str, Any]) -> float:
    """What X billed for one case: everything the emulator billed concerning its customer (mention
    reads, our reply, DMs both ways, the follow-up read, the retweet), plus the reads of the
    other mentions a pile-on folded into it."""
    others = max(0, int(case.get("mention_count", 1)) - 1)
    return float(state["spend_by_user"].get(case["customer_id"], 0.0)) + others * X_PRICES["owned_read"]


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
            located = (Path(str(f.locate())) for f in dist.files or [])
            dependencies += sum(path.stat().st_size for path in located if path.exists())
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
        ("storm", storm),
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
