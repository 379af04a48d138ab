"""Every alarm tells ops where to start: its description names a section of docs/runbook.md that
exists (README: "each alarm names its procedure")."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import load_template

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"


def _sections() -> list[str]:
    return [line[3:] for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")]


def test_every_alarm_names_a_runbook_section_that_exists() -> None:
    alarms = {
        name: resource["Properties"]["AlarmDescription"]
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert len(alarms) > 15
    sections = _sections()
    missing = {}
    for name, description in alarms.items():
        named = re.search(r"\(runbook - ([^)]+)\)", description)
        if named is None or not any(section.startswith(named.group(1)) for section in sections):
            missing[name] = description
    assert missing == {}


def test_every_alarm_is_in_the_title_of_the_section_it_names() -> None:
    """So an ops engineer searching the runbook for the alarm's name finds its section."""
    titles = " ".join(_sections())
    names = [
        name
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert [name for name in names if name not in titles] == []
