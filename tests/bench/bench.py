"""`make bench`: performance and cost figures, each beside its floor or peer, printed as one table and
written to out/bench/<timestamp>.json so runs can be compared. Not a test: it asserts nothing, and a
missed floor prints FAIL without failing the run.

It measures the production configuration: X-Ray tracing on as `Tracing: Active` makes it in Lambda
(a trace header per invocation, segments sent to a local UDP sink), logs at the template's INFO with
its 10% debug sampling. BENCH_QUICK=1 is the development mode: no 10,000-mention storm and no
10,000-mention CPU run, fewer cold-start rounds. README.md "make bench" says how each figure is
measured.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import os
import socket
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from tests.bench.figures import FLOORS, Row, RunCounts, cost_per_1000_complaints

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out" / "bench"
X_PRICES = yaml.safe_load((ROOT / "infrastructure" / "x_price_list.yaml").read_text())
AWS_PRICES = yaml.safe_load((ROOT / "infrastructure" / "aws_price_list.yaml").read_text())
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
COLD_ROUNDS = int(os.environ.get("BENCH_COLD_ROUNDS", "3" if QUICK else "7"))
# Set by main() before anything imports the handlers, Powertools or the X-Ray SDK (each reads them
# at import); importing this module (tests do) changes nothing.
PRODUCTION = {
    "POWERTOOLS_SERVICE_NAME": "turnaround",
    "POWERTOOLS_METRICS_NAMESPACE": "Turnaround",
    "POWERTOOLS_TRACE_DISABLED": "false",  # Tracing: Active
    "LOG_LEVEL": "INFO",  # the template's LogLevel default
    "POWERTOOLS_LOGGER_SAMPLE_RATE": "0.1",  # the template's Globals
    "LAMBDA_TASK_ROOT": str(ROOT),  # the X-Ray SDK behaves as in Lambda: no sampler clients, patch_all
    "_X_AMZN_TRACE_ID": "Root=1-6741e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}


def use_production_configuration() -> socket.socket:
    """The process environment of a Lambda function as the template configures it; returns the UDP
    socket standing in for the X-Ray daemon (segments land there unread)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    PRODUCTION["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{sink.getsockname()[1]}"
    if os.environ.get("BENCH_TRACING") == "off":  # for comparison only: what tracing costs
        PRODUCTION["POWERTOOLS_TRACE_DISABLED"] = "true"
    os.environ.update(PRODUCTION)
    return sink


ONLY = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}  # sections, for development

BENCH = ROOT / "infrastructure" / "scenarios" / "bench.yaml"
COMPLAINTS = [
    "@acmeair my bag is lost and nobody answers",
    "@acmeair flight delayed again, any update?",
    "@acmeair you charged me twice for one booking",
    "@acmeair my duty-free order is late, tracking stuck",
]


@contextmanager
def traced_invocations() -> Iterator[None]:
    """Each in-process invocation gets its own trace header, as Lambda gives each its own."""
    from local_cloud.runtime import InProcessLambdas

    original = InProcessLambdas._call
    counter = iter(range(1, 1 << 62))

    def call(self: Any, function_name: str, handler: Any, event: dict[str, Any]) -> Any:
        n = next(counter)
        os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-6741e988-{n:024x};Parent={n:016x};Sampled=1"
        return original(self, function_name, handler, event)

    InProcessLambdas._call = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        InProcessLambdas._call = original  # type: ignore[method-assign]


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

    def tick(self, *, acknowledge: bool = False) -> None:
        import boto3

        from local_cloud.cloud import REGION, scheduled_event

        cloud = self.cloud
        cloud.emulator.clock.advance(60)
        seen_at = time.perf_counter()
        event = scheduled_event(self.schedule, cloud.emulator.clock.now())
        _, errored = cloud.lambdas.invoke(self.poller, event)
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
    """Our CPU per mention from poll to workflow start on the embedded cloud, in a warm container:
    the thread CPU of the poller and dispatcher invocations (the SDK's client side and X-Ray's
    subsegments included), minus what moto spent answering them and minus full garbage
    collections over the fake cloud's heap (both reported apart). Complaints arrive 100 a minute; the
    poller runs every minute. Then idle polls (nothing new), each measured alone."""
    from local_cloud.metering import GcCpu, MotoCpu
    from local_cloud.runner import LocalRun

    results: dict[int, float] = {}
    figures: dict[str, Any] = {}
    idle_ms: list[float] = []
    read_calls = 0
    counts = (100, 1_000) if QUICK else (100, 1_000, 10_000)
    floor = FLOORS["our_cpu_us_per_mention"]
    for count in counts:
        with (
            LocalRun(BENCH, out=OUT / "cloud").deployed(execute_workflows=False) as cloud,
            MotoCpu().active() as moto,
            GcCpu().active() as collector,
        ):
            driver = Driver(cloud)
            # A warm container, as nearly every poll (one a minute) finds: its first invocation builds
            # what Lambda builds at INIT (session, clients, X client, triage model), which the
            # cold-start rows measure, and looks the brand up once; with one complaint, so the
            # clients made at a container's first complaint (Step Functions) are made too. Not a
            # mention's cost.
            warm_up_at = cloud.emulator.clock.now() + timedelta(seconds=1)
            cloud.emulator.add_post("c1", f"{COMPLAINTS[0]} (warm-up)", at=warm_up_at)
            driver.tick()
            warm_up = len(cloud.lambdas.cpu_ms)
            moto.ms.clear()
            moto.calls.clear()
            collector.ms.clear()
            _post_complaints(cloud.emulator, count, every_s=0.6, start=cloud.emulator.clock.now())
            gc.collect()
            gc.freeze()  # the deployed stack and the posted mentions: setup, not a poll's heap
            try:
                for _ in range(count // 100 + 1):
                    driver.tick()
                ours = {driver.poller, cloud.stack.functions["CaseDispatcherFunction"].name}
                cpu = sum(ms for function, ms in cloud.lambdas.cpu_ms[warm_up:] if function in ours)
                moto_ms = sum(ms for function, ms in moto.ms.items() if function in ours)
                full_gc_ms = collector.full_ms(ours)
                aws_calls = sum(n for function, n in moto.calls.items() if function in ours)
                stored = len(_items(cloud.stack, "mention")) - 1  # the warm-up's complaint apart
                started = len(_executions(cloud.stack)) - 1
                results[count] = (cpu - moto_ms - full_gc_ms) / count * 1000
                figures[str(count)] = {
                    "our_cpu_us_per_mention": results[count],
                    "invocation_cpu_ms": cpu,
                    "moto_cpu_ms": moto_ms,
                    "full_gc_cpu_ms": full_gc_ms,
                    "aws_calls_per_mention": aws_calls / count,
                    "gc_by_generation_ms": {
                        g: collector.full_ms(ours)
                        if g == 2
                        else sum(ms for (f, gen), ms in collector.ms.items() if gen == g and f in ours)
                        for g in (0, 1, 2)
                    },
                    "stored": stored,
                    "workflows_started": started,
                    "x_read_calls": cloud.emulator.calls["mentions"],
                }
                if count == 1_000:
                    read_calls = cloud.emulator.calls["mentions"]
                if count == counts[0]:
                    idle_ms = _idle_polls(cloud, driver, moto, collector, polls=5)
            finally:
                gc.unfreeze()
            assert stored == count, f"{count - stored} mentions lost"
    rows: list[Row] = [
        (
            "X read calls per 1,000 new mentions",
            f"{read_calls}",
            "X's least at max_results=100 is 11 (10 pages + the poll that finds nothing new); a pass "
            "also re-reads the post at since_id to prove X's reach, so 100 new are 2 pages",
        )
    ]
    for n, us in results.items():
        f = figures[str(n)]
        rows.append(
            (
                f"our CPU per mention, poll to workflow start, {n:,}",
                f"{us:.0f} µs",
                f"{floor.verdict(us)}; apart: moto {f['moto_cpu_ms'] / n * 1000:.0f} µs, full GC over "
                f"the fake cloud's heap {f['full_gc_cpu_ms'] / n * 1000:.0f} µs; "
                f"{f['aws_calls_per_mention']:.2f} AWS calls/mention; {f['workflows_started']:,} workflows",
            )
        )
    if 100 in results and max(results) > 100:
        growth = results[max(results)] / results[100]
        rows.append(
            (
                f"  cost per mention at {max(results):,} / at 100",
                f"{growth:.2f}x",
                "≈ 1x (≤ 1.5x counts as linear)",
            )
        )
        figures["growth_over_100"] = growth
    idle = statistics.median(idle_ms)
    rows.append(
        (
            "idle poll (nothing new), our CPU, median of 5",
            f"{idle:.1f} ms",
            f"{FLOORS['idle_poll_ms'].verdict(idle)}; warm container; moto and full GC apart",
        )
    )
    return rows, {"by_count": figures, "read_calls_per_1000": read_calls, "idle_poll_ms": idle_ms}


def _idle_polls(cloud: Any, driver: Driver, moto: Any, collector: Any, *, polls: int) -> list[float]:
    """Our CPU of each poll that finds nothing new (invocation CPU minus moto and full GC)."""
    poller = driver.poller
    measured = []
    for _ in range(polls):
        before = (len(cloud.lambdas.cpu_ms), moto.ms[poller], collector.full_ms({poller}))
        driver.tick()
        cpu = sum(ms for function, ms in cloud.lambdas.cpu_ms[before[0] :] if function == poller)
        measured.append(cpu - (moto.ms[poller] - before[1]) - (collector.full_ms({poller}) - before[2]))
    return measured


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

    if QUICK:
        return [("storm", "skipped", "BENCH_QUICK=1")], {"skipped": True}
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
            driver.tick(acknowledge=True)  # no memory tracing here: it slows each poll ~3x
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
            FLOORS["storm_mentions_lost"].verdict(posted - stored),
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
            "ack latency from the polling tick, p50 / p95",
            f"{statistics.median(latency):.2f} / {_percentile(latency, 0.95):.2f} s",
            f"same poll cycle (< 60 s); {len(latency)} acks, in-process, no memory tracing, "
            "Step Functions' start not modelled",
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
        "ack_latency_s": {
            "p50": statistics.median(latency),
            "p95": _percentile(latency, 0.95),
            "n": len(latency),
        },
    }


def template_memory_mb() -> dict[str, int]:
    """Each function's MemorySize in template.yaml (Globals, or its own), by its folder name."""
    from local_cloud.stack import load_template

    template = load_template()
    default = int(template["Globals"]["Function"].get("MemorySize", 128))
    memory = {}
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri"), str):
            size = properties.get("MemorySize", default)
            memory[Path(properties["CodeUri"]).name] = int(size) if isinstance(size, int | str) else default
    return memory


def _by_function_name(names: set[str], by_folder: dict[str, int]) -> dict[str, int]:
    """Deployed function names (turnaround-MentionPollerFunction-AB12) mapped to a folder's figure."""
    from local_cloud.stack import load_template

    resources = load_template()["Resources"]
    folders = {
        logical: Path(r["Properties"]["CodeUri"]).name
        for logical, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
        and isinstance(r.get("Properties", {}).get("CodeUri"), str)
    }
    mapped = {}
    for name in names:
        logical = next(lid for lid in folders if f"-{lid}-" in name or name.endswith(f"-{lid}"))
        mapped[name] = by_folder[folders[logical]]
    return mapped


def demo_run(recommended: dict[str, int] | None = None) -> tuple[list[Row], dict[str, Any]]:
    """Spend per complaint, ack latency and cost per 1,000 complaints (AWS and X), from the demo
    scenario on the embedded cloud; ``recommended``: MemorySize by function folder, priced too."""
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
    emails = len(result.emails)
    counts = RunCounts(
        cases=len(cases),
        invocations_ms=tuple(result.invocations_ms),
        state_transitions=result.state_transitions,
        write_units=dynamodb.write_units,
        read_units=dynamodb.read_units,
        emails=emails,
        x_spend_usd=float(state["spend_usd"]),
    )
    names = {function for function, _ in result.invocations_ms}
    configured = template_memory_mb()
    cost = cost_per_1000_complaints(counts, AWS_PRICES, _by_function_name(names, configured))
    rows.append(
        (
            "cost per 1,000 complaints, at the template's memory",
            f"${sum(cost.values()):.2f}",
            " + ".join(f"{k} ${v:.3f}" for k, v in cost.items()),
        )
    )
    rows.append(
        (
            "  of which AWS (SFN + Lambda + DynamoDB + SES)",
            f"${sum(v for k, v in cost.items() if k != 'x'):.3f}",
            "Lambda: in-process wall time per invocation times each function's MemorySize",
        )
    )
    sized = cost
    if recommended:
        sized = cost_per_1000_complaints(
            counts, AWS_PRICES, _by_function_name(names, {**configured, **recommended})
        )
        rows.append(
            (
                "  AWS part at the recommended memory",
                f"${sum(v for k, v in sized.items() if k != 'x'):.3f}",
                f"Lambda ${sized['lambda']:.4f} (was ${cost['lambda']:.4f})",
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
        "cost_per_1000": cost,
        "cost_per_1000_at_recommended_memory": sized,
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
    # The ingestor runs outside any handler here: its metrics flush to stdout every 100; drop them.
    with emulator, mock_aws(), contextlib.redirect_stdout(io.StringIO()):
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


def sizes() -> tuple[list[Row], dict[str, Any]]:
    """Each function's unzipped size with its layers (Lambda's limit is 250 MiB)."""

    def size(path: Path) -> int:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)

    dependencies = 0
    for line in (ROOT / "layers/dependencies/requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            dist = metadata.distribution(line.split("==")[0])
            located = (Path(str(f.locate())) for f in dist.files or [])
            dependencies += sum(path.stat().st_size for path in located if path.exists())
    layers = size(ROOT / "layers/turnaround") + dependencies
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    for function in sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()):
        total = size(ROOT / "functions" / function) + layers
        rows.append((f"unzipped size: {function} + layers", f"{total / 2**20:.1f} MiB", "limit 250 MiB"))
        figures[f"{function}_unzipped_bytes"] = total
    return rows, figures


def main() -> int:
    from tests.bench.bedrock_cost import bedrock_cost
    from tests.bench.coldstart import cold_starts

    sink = use_production_configuration()
    _quiet_fake_cloud()
    rows: list[Row] = []
    figures: dict[str, Any] = {
        "quick": QUICK,
        "configuration": {k: v for k, v in PRODUCTION.items() if "KEY" not in k},
    }
    recommended: dict[str, int] = {}

    def cold() -> tuple[list[Row], dict[str, Any]]:
        section_rows, section = cold_starts(COLD_ROUNDS)
        for name, figure in section["by_function"].items():
            if "recommended_memory_mb" in figure:
                recommended[name] = figure["recommended_memory_mb"]
        return section_rows, section

    with traced_invocations():
        for name, measure in (
            ("cold_start", cold),
            ("cpu", cpu_per_mention),
            ("storm", storm),
            ("demo", lambda: demo_run(recommended)),
            ("bedrock", lambda: bedrock_cost(AWS_PRICES)),
            ("sizes", sizes),
        ):
            if ONLY and name not in ONLY:
                continue
            print(f"measuring {name}…", file=sys.stderr, flush=True)
            started = time.monotonic()
            section_rows, section = measure()
            section["seconds"] = time.monotonic() - started
            rows += section_rows
            figures[name] = section
    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure'.ljust(width)}  {'value':>28}  floor / peer")
    for figure, value, floor in rows:
        print(f"{figure.ljust(width)}  {value:>28}  {floor}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}{'-quick' if QUICK else ''}.json"
    figures["rows"] = rows
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\nwritten: {path}")
    sink.close()
    return 0


def _quiet_fake_cloud() -> None:
    """The moto server's request log and moto's warnings are the fake cloud talking, not figures."""
    import logging
    import warnings

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="moto")
    warnings.filterwarnings("ignore", message=".*not supported by moto.*")


if __name__ == "__main__":
    sys.exit(main())
