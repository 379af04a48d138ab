"""The fault suite inside `make test`: each seeded plan runs the demo and must keep every invariant
(`make faults` runs the same plans and prints the counts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_cloud.faults import FaultPlan
from local_cloud.runner import DEMO, LocalRun
from tests.faults.run_faults import PLANS, summary, violations

REPORT: list[str] = []  # printed in pytest's closing summary (tests/conftest.py)


@pytest.mark.parametrize("plan", PLANS, ids=[p.name for p in PLANS])
def test_invariants_hold_under_faults(plan: FaultPlan, tmp_path: Path) -> None:
    plan.injected.clear()
    result = LocalRun(DEMO, out=tmp_path, faults=plan).run()
    problems = violations(result)
    REPORT.append(summary(plan, result, problems))
    assert result.mentions_expected, "the demo produced no mentions"
    assert problems == []
    if plan.x_faults:
        assert result.emulator_state["faults_fired"], "the injected X faults never fired"
        assert result.emulator_state["faults_pending"] == 0, "some injected X faults never fired"
    else:
        assert sum(plan.injected.values()) > 0, "no fault was injected"
