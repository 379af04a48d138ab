"""Close: record the outcome and the case's resolution metrics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.models.case import CaseStatus
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def close(flow: CaseWorkflow, case_id: str, outcome: str) -> dict[str, Any]:
    case = flow.case(case_id)
    now = flow.clock()
    flow.store.set_case_status(case_id, CaseStatus.CLOSED, closed_at=now.isoformat(), outcome=outcome)
    opened = datetime.fromisoformat(str(case["opened_at"]))
    metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
    if case.get("resolved_at"):
        resolved = datetime.fromisoformat(str(case["resolved_at"]))
        metrics.add_metric(
            name="ResolutionSeconds", unit=MetricUnit.Seconds, value=(resolved - opened).total_seconds()
        )
    if case.get("follow_up_at"):
        metrics.add_metric(name="FollowUpsReceived", unit=MetricUnit.Count, value=1)
    logger.info("case closed", extra={"case_id": case_id, "outcome": outcome})
    return {"case_id": case_id, "outcome": outcome}
