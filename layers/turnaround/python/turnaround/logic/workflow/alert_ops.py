"""Alert ops: X's billing stop holds all posting and emails ops once per episode."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.logic.workflow.emails import BILLING_STOPS, ops_alert_email
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow
    from turnaround.models.case import Case
    from turnaround.models.mention import Mention


def alert_ops(flow: CaseWorkflow, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
    """One email to ops per episode: the first case to hit X's billing stop puts the hold in place
    and alerts; the cases after it find the hold and stay quiet."""
    name = str(error.get("Error", "Unknown"))
    key = f"{case_id}#alert#{name}"
    if name in BILLING_STOPS:
        episode, placed = flow.effects.hold_posting(reason=name)
        if placed:
            metrics.add_metric(name="XBudgetExhausted", unit=MetricUnit.Count, value=1)
        key = f"ops-alert#{name}#{episode}"
    case, mention = case_and_post(flow, case_id) if name not in BILLING_STOPS else (None, None)
    message = ops_alert_email(
        playbook=flow.playbook,
        case_id=case_id,
        error=name,
        cause=str(error.get("Cause", "")),
        what="The case's workflow failed; nobody may be working on it",
        case=case,
        mention=mention,
    )
    once = flow.effects.at_most_once(key, lambda: {"result_id": flow.mailer.send(message)})
    return {"alerted": once.made_now}


def case_and_post(flow: CaseWorkflow, case_id: str) -> tuple[Case | None, Mention | None]:
    """The case and its customer's post for an ops email, as far as the table can still give them:
    the alert goes out even when storage is what failed."""
    try:
        case = flow.store.cases.get(case_id)
        mention = flow.store.mentions.get(case.root_tweet_id) if case else None
    except Exception:  # the alert matters more than its details
        logger.exception("case details unavailable for the ops alert", extra={"case_id": case_id})
        return None, None
    return case, mention
