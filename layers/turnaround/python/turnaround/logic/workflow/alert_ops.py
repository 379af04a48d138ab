"""Alert ops: X's billing stop holds all posting and emails ops once per episode."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.logic.workflow.emails import ops_alert_email
from turnaround.observability import metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def alert_ops(flow: CaseWorkflow, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
    """One email to ops per episode: the first case to hit X's billing stop puts the hold in place
    and alerts; the cases after it find the hold and stay quiet."""
    name = str(error.get("Error", "Unknown"))
    key = f"{case_id}#alert#{name}"
    if name in ("XCreditsExhausted", "XUsageCapped"):
        episode, placed = flow.effects.hold_posting(reason=name)
        if placed:
            metrics.add_metric(name="XBudgetExhausted", unit=MetricUnit.Count, value=1)
        key = f"ops-alert#{name}#{episode}"
    message = ops_alert_email(
        playbook=flow.playbook, case_id=case_id, error=name, cause=str(error.get("Cause", ""))
    )
    once = flow.effects.at_most_once(key, lambda: {"result_id": flow.mailer.send(message)})
    return {"alerted": once.made_now}
