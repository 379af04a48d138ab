"""`make run` holds a scenario to its `expect` block, stops cleanly with workflows still running, and
refuses a playbook whose templates cannot render."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from local_cloud.__main__ import main
from local_cloud.report import RunResult, unmet_expectations
from local_cloud.runner import ROOT

STORM = ROOT / "infrastructure" / "scenarios" / "storm.yaml"

SCENARIO: dict[str, Any] = {
    "start": "2026-11-23T07:00:00Z",
    "users": [
        {
            "username": "acmeair",
            "id": "100",
            "name": "Acme Air",
            "access_token": "100-t",
            "access_token_secret": "s",
        },
        {"username": "bob", "name": "Bob Stone", "followers": 40},
    ],
    "posts": [{"key": "late", "author": "bob", "at": 60, "text": "@acmeair my order is late, no tracking"}],
    # Nobody clicks: the case is still waiting for its rep when the run stops.
    "expect": {"late": {"outcome": "resolved"}},
}


def _run(tmp_path: Path, scenario: dict[str, Any], capsys: Any) -> tuple[int, str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    code = main(["--scenario", str(path), "--out", str(tmp_path / "out"), "--until", "1800"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_unmet_expectation_exits_non_zero_and_says_which(tmp_path, capsys):
    code, output = _run(tmp_path, SCENARIO, capsys)
    assert code == 1
    assert (
        "expectations NOT met" in output and "late: outcome expected 'resolved', was 'still OPEN'" in output
    )
    assert "workflows still running when the run stopped: 1" in output  # stopped, did not crash
    assert (tmp_path / "out" / "report.html").exists()


def test_the_storm_scenario_runs_as_make_run_shows_it(tmp_path, capsys):
    """`make run SCENARIO=infrastructure/scenarios/storm.yaml`, as is: its `expect` block holds, X's
    rules hold, the storm is one incident and the gate's pile-on another, and the workflows still
    running at the end (reps are busy longer than the run) are stopped without an error. At 400
    simulated seconds per real second rather than make run's 600 (about 75 s rather than 55 s): X's
    clock follows real time, so on a busy machine a slow stretch of the storm's 40 workflows moves it
    on by hours."""
    code = main(["--scenario", str(STORM), "--out", str(tmp_path / "out"), "--scale", "400"])
    output = capsys.readouterr()
    text = output.out + output.err
    assert code == 0, text
    spec = yaml.safe_load(STORM.read_text())
    assert f"expectations: all {len(spec['expect'])} cases as the scenario expects" in text
    assert "rule violations: 0" in text and re.search(
        r"incidents: 2 \(incident-delays-\S+: 2 cases, incident-outage-", text
    )
    assert "I/O operation on closed file" not in text and "Traceback" not in text
    digests = list((tmp_path / "out" / "mail").glob("*incident-outage-*jordan.lee.eml"))
    assert digests, "the supervisor got no digest"
    # The supervisor ends it from the newest digest; the schedule then sends the closing summary
    # ("trickle", which came after, is an ordinary case: its `expect`).
    assert "supervisor clicked 'End the incident now' for outage (GET 200, POST 200)" in text
    summary = r"emailed jordan\.lee@acmeair\.example: \[Incident\] outage: \d+ cases - ended"
    assert re.search(summary, text), text
    # The gate's pile-on under one delay complaint opened the delays incident (`delayed` in `expect`).
    delays = (tmp_path / "out" / "mail").glob("*incident-delays-*jordan.lee.eml")
    opened = min(delays, key=lambda path: int(path.name.split("-", 1)[0]))  # the first: "incident opened"
    assert "each person who piled on under @gate_gina's complaint" in opened.read_text()


def test_a_playbook_template_that_cannot_render_stops_the_run(tmp_path, capsys):
    broken = {
        **SCENARIO,
        "playbook": {"templates": {"dm_fallback_note": "We could not DM {{ firstname }}"}},
    }
    code, output = _run(tmp_path, broken, capsys)
    assert code == 2 and "templates.dm_fallback_note[0]: 'firstname' is undefined" in output


def _result(cases: list[dict[str, Any]]) -> RunResult:
    return RunResult(
        cases=cases,
        emulator_state={},
        emails=[],
        progress=[],
        keys={"a": "1", "b": "2"},
        seconds=0,
        simulated_seconds=0,
    )


def test_each_kind_of_expectation_is_checked():
    cases = [{"root_tweet_id": "1", "status": "CLOSED", "outcome": "resolved", "opted_out": True}]
    expect: dict[str, dict[str, Any]] = {
        "a": {"outcome": "resolved", "opted_out": True, "retweeted": True, "supervisor": False},
        "b": {"outcome": "resolved"},
        "c": {"outcom": "resolved"},
    }
    assert unmet_expectations(_result(cases), expect) == [
        "a: retweeted expected True, was False",
        "b: no case was opened (expected {'outcome': 'resolved'})",
        "c: unknown expectations ['outcom']; "
        "known ['acknowledged', 'dm_refused', 'incident', 'opted_out', 'outcome', 'retweeted', 'supervisor']",
    ]
    assert unmet_expectations(_result(cases), {"a": {"outcome": "resolved", "opted_out": True}}) == []
    assert unmet_expectations(_result(cases), {"a": {"incident": True, "acknowledged": False}}) == [
        "a: incident expected True, was False"
    ]
