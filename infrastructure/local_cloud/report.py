"""What a run leaves behind: its result, the closing summary, the emails as files, out/report.html."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any


@dataclass
class RunResult:
    cases: list[dict[str, Any]]
    emulator_state: dict[str, Any]
    emails: list[Message]
    progress: list[str]
    keys: dict[str, str]
    seconds: float
    simulated_seconds: float
    executions: list[dict[str, Any]] = field(default_factory=list)
    invocations_ms: list[tuple[str, float]] = field(default_factory=list)
    mentions_expected: list[str] = field(default_factory=list)
    mentions_stored: list[str] = field(default_factory=list)
    state_transitions: int = 0
    stream_records_dropped: int = 0

    def case_for(self, key: str) -> dict[str, Any] | None:
        root = self.keys.get(key)
        return next((c for c in self.cases if c.get("root_tweet_id") == root), None)


EXPECTATION_KEYS = {
    "outcome",
    "retweeted",
    "dm_refused",
    "opted_out",
    "supervisor",
    "incident",
    "acknowledged",
}


def unmet_expectations(result: RunResult, expect: dict[str, dict[str, Any]] | None) -> list[str]:
    """The scenario's `expect` block against the run: one line per expectation that does not hold
    (a case still open when the run stopped is an unmet outcome, not an error)."""
    unmet: list[str] = []
    for key, expected in (expect or {}).items():
        unknown = set(expected) - EXPECTATION_KEYS
        if unknown:
            unmet.append(f"{key}: unknown expectations {sorted(unknown)}; known {sorted(EXPECTATION_KEYS)}")
            continue
        case = result.case_for(key)
        if case is None:
            unmet.append(f"{key}: no case was opened (expected {expected})")
            continue
        actual = {
            "outcome": case.get("outcome") or f"still {case.get('status', 'open')}",
            "retweeted": bool(case.get("amplified_at")),
            "dm_refused": bool(case.get("dm_refused")),
            "opted_out": bool(case.get("opted_out")),
            "supervisor": bool(case.get("supervisor_escalated_at")),
            "incident": bool(case.get("incident_id")),  # joined a storm's incident
            "acknowledged": bool(case.get("first_response_at")),
        }
        for name, wanted in expected.items():
            if actual[name] != wanted:
                unmet.append(f"{key}: {name} expected {wanted!r}, was {actual[name]!r}")
    return unmet


def summarise(result: RunResult, scale: float) -> str:
    outcomes = Counter(str(c.get("outcome", c.get("status"))) for c in result.cases)
    first = sorted(
        (
            datetime.fromisoformat(c["first_response_at"]) - datetime.fromisoformat(c["opened_at"])
        ).total_seconds()
        for c in result.cases
        if c.get("first_response_at")
    )
    resolution = sorted(
        (datetime.fromisoformat(c["resolved_at"]) - datetime.fromisoformat(c["opened_at"])).total_seconds()
        / 3600
        for c in result.cases
        if c.get("resolved_at")
    )
    state = result.emulator_state
    lines = ["", "Summary", "-------"]
    lines.append(
        f"cases: {len(result.cases)}  " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    )
    if first:
        lines.append(
            # Case timestamps are simulated; the work behind them took real time, `scale` times less.
            f"first response after ingest: median {first[len(first) // 2] / scale:.2f} s, "
            f"max {first[-1] / scale:.2f} s (real)"
        )
    if resolution:
        lines.append(f"resolution: median {resolution[len(resolution) // 2]:.1f} h (simulated)")
    incidents = Counter(str(c["incident_id"]) for c in result.cases if c.get("incident_id"))
    if incidents:
        lines.append(
            f"incidents: {len(incidents)} ("
            + ", ".join(f"{name}: {count} cases" for name, count in sorted(incidents.items()))
            + ")"
        )
    lost = set(result.mentions_expected) - set(result.mentions_stored)
    lines.append(
        f"mentions: {len(result.mentions_expected)} to ingest, {len(result.mentions_stored)} stored, "
        f"{len(lost)} lost (beyond X's 800 reach or never read)"
    )
    lines.append(f"X calls: {sum(state['calls'].values())} " + json.dumps(state["calls"], sort_keys=True))
    lines.append(
        f"X spend: ${state['spend_usd']:.3f} at the 2026 price list "
        + json.dumps(state["spend_by_operation"], sort_keys=True)
    )
    lines.append(
        f"posts {len(state['posts_created'])}, DMs {len(state['dms_sent'])}, retweets "
        f"{len(state['retweets'])}, emails {len(result.emails)}"
    )
    lines.append(
        f"rule violations: {len(state['violations'])}"
        + ("" if not state["violations"] else " " + json.dumps(state["violations"]))
    )
    running = [e for e in result.executions if e.get("status") == "RUNNING"]
    if running:
        lines.append(f"workflows still running when the run stopped: {len(running)}")
    lines.append(
        f"wall time {result.seconds:.1f} s for {result.simulated_seconds / 3600:.1f} simulated hours"
    )
    return "\n".join(lines)


def expectations_report(unmet: list[str], expect: dict[str, Any] | None) -> str:
    if not expect:
        return "expectations: none in the scenario"
    if not unmet:
        return f"expectations: all {len(expect)} cases as the scenario expects"
    return "expectations NOT met:\n" + "\n".join(f"  !! {line}" for line in unmet)


def save_email(mail: Path, number: int, message: Message) -> Path:
    """Write one email as .eml and .html (its HTML part) so a person can open it; returns the .html."""
    mail.mkdir(parents=True, exist_ok=True)
    thread = message.get("X-Turnaround-Case") or message.get("X-Turnaround-Thread") or "ops"
    stem = f"{number:02d}-{thread}-{str(message['To']).split('@')[0]}"
    (mail / f"{stem}.eml").write_bytes(message.as_bytes())
    html_file = mail / f"{stem}.html"
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            html_file.write_bytes(payload if isinstance(payload, bytes) else b"")
    return html_file


def write_outputs(result: RunResult, out: Path, summary: str) -> Path:
    rows = []
    for n, message in enumerate(result.emails, 1):
        stem = save_email(out / "mail", n, message).stem
        rows.append(
            f"<li><a href='mail/{stem}.html'>{html.escape(str(message['Subject']))}</a> "
            f"to {html.escape(str(message['To']))} (<a href='mail/{stem}.eml'>.eml</a>)</li>"
        )
    cases = "".join(
        f"<tr><td>{html.escape(str(c['case_id']))}</td><td>@{html.escape(str(c.get('customer_username')))}</td>"
        f"<td>P{c.get('priority')}</td><td>{html.escape(str(c.get('route')))}</td>"
        f"<td>{html.escape(str(c.get('outcome', c.get('status'))))}</td>"
        f"<td>{html.escape(str(c.get('amplification', '')))}</td></tr>"
        for c in result.cases
    )
    report = out / "report.html"
    report.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>Turnaround run</title></head>
<body style="font-family: sans-serif"><h1>Turnaround: local run</h1>
<pre>{html.escape(summary)}</pre>
<h2>Cases</h2><table border="1" cellpadding="4"><tr><th>case</th><th>customer</th><th>priority</th>
<th>route</th><th>outcome</th><th>amplification</th></tr>{cases}</table>
<h2>Emails</h2><ul>{"".join(rows)}</ul>
<h2>Progress</h2><pre>{html.escape(chr(10).join(result.progress))}</pre></body></html>""")
    return report
