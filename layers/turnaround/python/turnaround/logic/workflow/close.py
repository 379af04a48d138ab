"""Close: record the outcome and the case's resolution metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def close(flow: CaseWorkflow, case_id: str, outcome: str) -> dict[str, Any]:
    case = flow.case(case_id)
    now = flow.clock()
    expires_at = flow.store.cases.closed(case, at=now, outcome=outcome)
    flow.store.conversation.expire(case_id, expires_at)  # what belongs to the case alone goes with it
    # Roster by load counts open cases: this one leaves every rep's load that may hold it (once).
    holders = [case.assignee_email, *(move.from_email for move in case.reassignments)]
    flow.store.incidents.release_case([email for email in holders if email], case_id)
    metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
    if case.resolved_at:
        metrics.add_metric(
            name="ResolutionSeconds",
            unit=MetricUnit.Seconds,
            value=(case.resolved_at - case.opened_at).total_seconds(),
        )
    if case.follow_up_at:
        metrics.add_metric(name="FollowUpsReceived", unit=MetricUnit.Count, value=1)
    logger.info("case closed", extra={"case_id": case_id, "outcome": outcome})
    return {"case_id": case_id, "outcome": outcome}
