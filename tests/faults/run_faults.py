"""`make faults`: the demo scenario under seeded faults; after each run the invariants must hold.

Invariants: every mention stored once (none lost), every complaint has exactly one workflow, no
duplicate reply, DM, retweet or email, and no open case without an email about it.
"""

from __future__ import annotations

import sys
from collections import Counter

from local_cloud.faults import FaultPlan
from local_cloud.runner import DEMO, ROOT, LocalRun, RunResult

PLANS = [
    FaultPlan(
        "X 429 bursts, 5xx and a timeout",
        seed=1,
        x_faults=[
            {"route": "mentions", "kind": "rate_limit", "skip": 2, "times": 3},
            {"route": "create_tweet", "kind": "server_error", "times": 2},
            {"route": "dm_events", "kind": "server_error", "skip": 1, "times": 2},
            {"route": "dm_events", "kind": "timeout", "skip": 4, "times": 1, "delay_seconds": 11},
        ],
    ),
    FaultPlan(
        "X credits exhausted (402)",
        seed=2,
        x_faults=[{"route": "create_tweet", "kind": "payment_required", "skip": 1, "times": 1}],
    ),
    FaultPlan("DynamoDB throttling and SES rejections", seed=3, dynamodb_write_throttle=0.05, ses_rejects=2),
    FaultPlan(
        "Lambda killed after its effect; schedules fire twice",
        seed=4,
        kills_after_effect=3,
        duplicate_schedules=True,
    ),
]


def violations(result: RunResult) -> list[str]:
    problems = []
    lost = set(result.mentions_expected) - set(result.mentions_stored)
    if lost:
        problems.append(f"{len(lost)} mentions lost")
    if result.stream_records_dropped:
        problems.append(f"{result.stream_records_dropped} stream records dropped after their last retry")
    names = [e["name"] for e in result.executions]
    if sorted(names) != sorted(str(c["case_id"]) for c in result.cases) or len(set(names)) != len(names):
        problems.append(f"workflows {sorted(names)} != cases")
    # What reached X twice. A refused retry (after a Lambda died between posting and recording it)
    # is how we learn the post exists; it is counted below, but only a second post is a duplicate.
    replies = Counter(
        p["in_reply_to_tweet_id"] for p in result.emulator_state["posts_created"] if p["in_reply_to_tweet_id"]
    )
    dms = Counter(d["text"] for d in result.emulator_state["dms_sent"])
    retweets = Counter(r["tweet_id"] for r in result.emulator_state["retweets"])
    for kind, counts in (("replies", replies), ("DMs", dms), ("retweets", retweets)):
        if any(n > 1 for n in counts.values()):
            problems.append(f"duplicate {kind}: {[k for k, n in counts.items() if n > 1]}")
    refused = [
        v
        for v in result.emulator_state["violations"]
        if v["rule"] not in ("second_reply_to_interaction", "duplicate_content")
    ]
    if refused:
        problems.append(f"X rule violations {refused}")
    # Keyed by escalation (each SLA period's reminder is its own escalation with its own email) and by
    # effect (emails in a case's thread share its subject; X-Turnaround-Effect names which one it is).
    sent = Counter(
        (
            m.get("X-Turnaround-Case"),
            m.get("X-Turnaround-Escalation"),
            str(m["To"]),
            str(m["Subject"]),
            str(m.get("X-Turnaround-Effect", "")).strip(),
        )
        for m in result.emails
    )
    duplicated = {k: n for k, n in sent.items() if n > 1}
    if duplicated:
        problems.append(f"duplicate emails {duplicated}")
    mailed = {m.get("X-Turnaround-Case") for m in result.emails}
    silent = [
        c["case_id"] for c in result.cases if c.get("status") != "CLOSED" and c["case_id"] not in mailed
    ]
    if silent:
        problems.append(f"open cases nobody was emailed about: {silent}")
    return problems


def summary(plan: FaultPlan, result: RunResult, problems: list[str]) -> str:
    """One line per run: what was injected, what X answered, what was lost or duplicated."""
    x_fired = result.emulator_state["faults_fired"]
    lost = len(set(result.mentions_expected) - set(result.mentions_stored))
    duplicated = sum(p.startswith("duplicate") for p in problems)
    return (
        f"{plan.name}: faults injected {sum(plan.injected.values()) + sum(x_fired.values())} "
        f"{dict(plan.injected) | x_fired}, X refusals {len(result.emulator_state['refusals'])}, "
        f"mentions {len(result.mentions_stored)}/{len(result.mentions_expected)}, cases {len(result.cases)}, "
        f"lost {lost}, duplicated {duplicated}, invariant breaks {len(problems)}"
        + ("" if not problems else " -> " + "; ".join(problems))
    )


def main() -> int:
    injected = failed = 0
    for plan in PLANS:
        plan.injected.clear()
        result = LocalRun(DEMO, out=ROOT / "out" / "faults" / str(plan.seed), faults=plan).run()
        problems = violations(result)
        print(summary(plan, result, problems), flush=True)
        injected += sum(plan.injected.values()) + sum(result.emulator_state["faults_fired"].values())
        failed += bool(problems)
    print(f"\nfault runs: {len(PLANS)}, failed: {failed}, faults injected: {injected}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
