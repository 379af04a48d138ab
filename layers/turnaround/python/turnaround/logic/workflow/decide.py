"""Record the rep's decision: resolved starts the follow-up; anything else is kept as a note."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.observability import metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def record_decision(flow: CaseWorkflow, case_id: str, decision: dict[str, Any]) -> dict[str, Any]:
    action = str(decision.get("action", "not_resolved"))
    now, note = flow.clock(), decision.get("note")
    if action == "resolved":
        flow.store.cases.resolved(case_id, at=now, note=note)
        metrics.add_metric(name="CasesResolved", unit=MetricUnit.Count, value=1)
    else:
        flow.store.cases.not_resolved(case_id, at=now, note=note)
    return {"action": action}
