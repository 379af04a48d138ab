"""The clock loop: each tick advances X's clock by ``tick`` simulated seconds, fires the template's
schedules whose period has passed, delivers the table's stream to its mapped function, and clicks
the reps' scripted links. Step Functions waits and heartbeats run in real time on moto's
interpreter, so the playbook's timings were divided by ``scale`` (simulated seconds per real
second) before the workflow sees them, and X's clock follows real time times the scale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import boto3

from local_cloud.cloud import EmbeddedCloud, action_links, end_incident_link, rate_seconds, scheduled_event
from local_cloud.faults import FaultPlan
from local_cloud.inbound_mail import ScriptedReplies
from local_cloud.narration import Narrator, scan
from local_cloud.report import RunResult


@dataclass
class RepAction:
    post: str
    action: str
    after: float = 600
    note: str = ""
    to: str = "rep"
    reassign_to: str | None = None
    done: bool = False


@dataclass
class IncidentAction:
    """The supervisor ends a topic's incident from its newest digest, ``at`` simulated seconds in."""

    topic: str
    at: float
    action: str = "end"
    done: bool = False

    def __post_init__(self) -> None:
        if self.action != "end":
            raise ValueError(f"incident_actions: unknown action {self.action!r} (known: end)")


@dataclass
class Pace:
    scale: float  # simulated seconds per real second
    tick: float  # simulated seconds per loop tick
    until: float  # simulated seconds after which the run stops regardless


def last_scripted_event(spec: dict[str, Any]) -> float:
    return max(
        [
            float(p.get("at", 0)) + float(p.get("every", 1)) * (int(p.get("repeat", 1)) - 1)
            for p in spec.get("posts") or []
        ]
        + [float(d.get("at", 0)) for d in spec.get("dms") or []]
        + [0]
    )


def run_loop(
    cloud: EmbeddedCloud,
    spec: dict[str, Any],
    narrator: Narrator,
    pace: Pace,
    *,
    sandbox: bool,
    faults: FaultPlan,
) -> RunResult:
    table = boto3.resource("dynamodb").Table(cloud.table_name)
    start = cloud.emulator.clock.now()
    next_fire = {rule: start for rule, _, _ in cloud.stack.schedules}
    actions = [RepAction(**a) for a in spec.get("rep_actions") or []] if not sandbox else []
    endings = [IncidentAction(**a) for a in spec.get("incident_actions") or []] if not sandbox else []
    # The scenario's rep_replies: real MIME emails through SES receiving (S3, then the inbound function).
    narrator.scripted = ScriptedReplies([] if sandbox else spec.get("rep_replies") or [], cloud.inbound)
    last_event = last_scripted_event(spec)
    sfn = boto3.client("stepfunctions")
    real_start = time.monotonic()
    dropped = 0
    while True:
        loop_start = time.monotonic()
        # X's clock follows real time times the scale, so it agrees with the Step Functions timers
        # (which run in real time on the scaled playbook); a slow tick simply covers more time.
        cloud.emulator.clock.set(
            max(cloud.emulator.clock.now(), start + timedelta(seconds=(loop_start - real_start) * pace.scale))
        )
        now = cloud.emulator.clock.now()
        for rule, expression, function in cloud.stack.schedules:
            if now >= next_fire[rule]:
                next_fire[rule] = now + timedelta(seconds=rate_seconds(expression))
                copies = 2 if faults.duplicate_schedules else 1  # two pollers at once
                event = scheduled_event(rule, now)
                for result, errored in cloud.lambdas.invoke_together(function, event, copies=copies):
                    narrator.report_poll(now, function, result, errored)
        cloud.deliver_stream()
        if len(cloud.deliveries.dropped) > dropped:
            narrator.say(
                now,
                f"!! {len(cloud.deliveries.dropped) - dropped} stream records dropped after their last retry",
            )
            dropped = len(cloud.deliveries.dropped)
        narrator.observe(now, cloud, table)
        for action in actions:
            maybe_click(now, action, cloud, narrator)
        for ending in endings:
            maybe_end_incident((now - start).total_seconds(), now, ending, cloud, narrator)
        narrator.scripted.tick(now, cloud.keys, narrator.say)
        running = [
            e
            for e in sfn.list_executions(stateMachineArn=cloud.stack.state_machine_arn)["executions"]
            if e["status"] == "RUNNING"
        ]
        delivering = any(d.pending for d in cloud.deliveries.deliveries)
        elapsed = (now - start).total_seconds()
        finished = (
            elapsed > last_event
            and not running
            and not delivering
            and all(a.done for a in actions)
            and all(a.done for a in endings)
            and narrator.scripted.done
        )
        if (finished and not sandbox) or elapsed >= pace.until:
            break
        time.sleep(max(0.0, pace.tick / pace.scale - (time.monotonic() - loop_start)))
    narrator.observe(cloud.emulator.clock.now(), cloud, table)
    return _result(cloud, table, narrator, start)


def _result(cloud: EmbeddedCloud, table: Any, narrator: Narrator, start: datetime) -> RunResult:
    sfn = boto3.client("stepfunctions")
    items = scan(table)
    executions = sfn.list_executions(stateMachineArn=cloud.stack.state_machine_arn)["executions"]
    transitions = sum(
        1
        for e in executions
        for event in sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]
        if event["type"].endswith("StateEntered")
    )
    return RunResult(
        cases=[i for i in items if i.get("type") == "case"],
        emulator_state=cloud.emulator.state(),
        emails=cloud.emails(),
        progress=narrator.progress,
        keys=cloud.keys,
        seconds=0.0,
        simulated_seconds=(cloud.emulator.clock.now() - start).total_seconds(),
        executions=[dict(e) for e in executions],
        invocations_ms=list(cloud.lambdas.durations_ms),
        mentions_expected=expected_mentions(cloud.emulator),
        mentions_stored=[str(i["tweet_id"]) for i in items if i.get("type") == "mention"],
        state_transitions=transitions,
        stream_records_dropped=len(cloud.deliveries.dropped),
    )


def expected_mentions(emulator: Any) -> list[str]:
    """What ingest must store: visible posts mentioning a monitored handle, not ours, not retweets."""
    brand = next(u for u in emulator.world.users.values() if u.access_token)
    return [p.id for p in emulator.world.mentions_of(brand) if p.author_id != brand.id and not p.retweet_of]


def maybe_click(now: datetime, action: RepAction, cloud: EmbeddedCloud, narrator: Narrator) -> None:
    """A scripted rep opens the newest email about their case once it is `after` seconds old."""
    if action.done or action.post not in cloud.keys:
        return
    received: list[tuple[datetime, Message]] = [
        (t, m)
        for t, m in narrator.email_times.get(f"case-{cloud.keys[action.post]}", [])
        if action_links(m)  # a note in the case's thread (the ack not posted) carries no links
    ]
    if action.to == "supervisor":
        received = [(t, m) for t, m in received if "Escalated: " in str(m["Subject"])]
    received = [(t, m) for t, m in received if action.action in action_links(m)]  # e.g. "Retweet this?"
    if not received or (now - received[-1][0]).total_seconds() < action.after:
        return
    link = action_links(received[-1][1])[action.action]
    page = cloud.click(link)
    form = {"note": action.note}
    if action.reassign_to:
        form["reassign_to"] = action.reassign_to
    confirmed = cloud.click(link, method="POST", **form)
    # A 409 means a newer email (reminder, supervisor) replaced this one: act on that instead.
    action.done = confirmed.status_code == 200
    narrator.say(
        now,
        f"rep clicked '{action.action}' for {action.post} "
        f"(GET {page.status_code}, POST {confirmed.status_code})",
    )


def maybe_end_incident(
    elapsed: float, now: datetime, ending: IncidentAction, cloud: EmbeddedCloud, narrator: Narrator
) -> None:
    """The scripted supervisor opens "End the incident now" in the newest digest of the topic's
    incident once ``at`` has passed (and there is one), and confirms."""
    if ending.done or elapsed < ending.at:
        return
    thread = f"incident-{ending.topic}-"
    digests = [
        m
        for m in cloud.emails()
        if str(m.get("X-Turnaround-Thread", "")).startswith(thread) and end_incident_link(m)
    ]
    if not digests:
        return
    link = end_incident_link(digests[-1])
    assert link is not None
    page = cloud.click(link)
    confirmed = cloud.click(link, method="POST")
    ending.done = confirmed.status_code in (200, 409)  # 409: it had ended already
    narrator.say(
        now,
        f"supervisor clicked 'End the incident now' for {ending.topic} "
        f"(GET {page.status_code}, POST {confirmed.status_code})",
    )
