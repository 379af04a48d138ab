"""The fault suite inside `make test`: each seeded plan runs the demo and must keep every invariant
(`make faults` runs the same plans and prints the counts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_cloud.access import AwsCallLog, calls_by_role, denied_calls, deployed_roles
from local_cloud.faults import FaultPlan
from local_cloud.loop import run_loop
from local_cloud.runner import DEMO, LocalRun
from tests.faults.run_faults import PLANS, summary, violations

REPORT: list[str] = []  # printed in pytest's closing summary (tests/conftest.py)


@pytest.mark.parametrize("plan", PLANS, ids=[p.name for p in PLANS])
def test_invariants_hold_under_faults(plan: FaultPlan, tmp_path: Path) -> None:
    plan.injected.clear()
    run = LocalRun(DEMO, out=tmp_path, faults=plan)
    with AwsCallLog().active() as log, run.deployed() as cloud:
        result = run_loop(cloud, run.spec, run.narrator, run.pace, sandbox=False, faults=run.faults)
        # The recovery paths (a claim released, a retry) under each function's deployed role.
        denied = denied_calls(calls_by_role(log, cloud.stack), deployed_roles(cloud.stack))
    assert not denied, f"AWS would refuse these calls: {denied}"
    problems = violations(result)
    REPORT.append(summary(plan, result, problems))
    assert result.mentions_expected, "the demo produced no mentions"
    assert problems == []
    if plan.x_faults:
        assert result.emulator_state["faults_fired"], "the injected X faults never fired"
        assert result.emulator_state["faults_pending"] == 0, "some injected X faults never fired"
    else:
        assert sum(plan.injected.values()) > 0, "no fault was injected"
