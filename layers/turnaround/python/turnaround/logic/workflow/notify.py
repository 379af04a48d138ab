"""Notify: email the rep (or the supervisor) the whole case with signed action links, once per
wait; the newest email's links are the only ones that work."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.logic.rep_actions.links import ACTIONS, Action, ActionClaim
from turnaround.logic.workflow.emails import Wait, escalation_email
from turnaround.models.case import Case, Escalation, ShownPost
from turnaround.models.mention import Mention
from turnaround.models.playbook import Person
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def notify(
    flow: CaseWorkflow,
    case_id: str,
    task_token: str,
    role: str,
    reminder: bool = False,
    *,
    reminder_number: int = 0,
    final: bool = False,
) -> dict[str, Any]:
    """Email the rep (or the supervisor) the whole case with signed action links."""
    case = flow.case(case_id)
    mention = flow.root_mention(case)
    recipient: Person = flow.playbook.supervisor if role == "supervisor" else flow.assignee(case, mention)
    if role == "rep" and case.reassignments and case.assignee_email:
        # A reassigned case's load moves with it (here, in the workflow: repeatable on a retry).
        former = [move.from_email for move in case.reassignments if move.from_email]
        flow.store.incidents.move_case(case_id, case.assignee_email, former)
    # Keyed on the task token: a retried invocation of the same wait sends no second email.
    escalation_id = hashlib.sha256(task_token.encode()).hexdigest()[:32]
    wait = Wait(role=role, reminder=reminder, reminder_number=reminder_number, final=final)
    once = flow.effects.at_most_once(
        f"{escalation_id}#email",
        lambda: _email_escalation(flow, case, mention, escalation_id, task_token, recipient, wait),
    )
    if not once.made_now:
        return {"escalation_id": escalation_id, "emailed": False}
    now = flow.clock()
    # Links in older emails for this case stop working: only the newest request can be answered.
    flow.store.cases.notified(
        case_id,
        at=now,
        recipient=recipient.email,
        escalation_id=escalation_id,
        first=case.escalated_at is None,
        rep_reminders=case.reminders + 1 if reminder and role == "rep" else None,
        supervisor=role == "supervisor" and not reminder,
        supervisor_reminders=case.supervisor_reminders + 1
        if role == "supervisor" and reminder and not final
        else None,
        final=final,
        ack_error_shown=case.ack_error is not None,  # this email told them the ack was not posted
    )
    metrics.add_metric(
        name="FinalNotices"
        if final
        else "SupervisorEscalations"
        if role == "supervisor"
        else ("RepReminders" if reminder else "RepEscalations"),
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info("rep notified", extra={"case_id": case_id, "role": role, "reminder": reminder})
    return {"escalation_id": escalation_id, "emailed": True}


def issue_links(
    flow: CaseWorkflow,
    case_id: str,
    escalation_id: str,
    task_token: str,
    role: str,
    recipient: Person,
    actions: tuple[Action, ...],
    post: ShownPost | None = None,
) -> tuple[dict[str, str], int]:
    """Store what the links of one email answer (the task token stays in DynamoDB), then sign one
    link per action. Returns the links and their expiry."""
    now = flow.clock()
    expires_at = int((now + timedelta(seconds=flow.playbook.sla.action_link_ttl_seconds)).timestamp())
    flow.store.escalations.save(
        Escalation(
            escalation_id=escalation_id,
            case_id=case_id,
            task_token=task_token,
            role=role,
            recipient=recipient.email,
            created_at=now,
            expires_at=expires_at,
            post=post,
        )
    )
    links: dict[str, str] = {
        action: f"{flow.action_url}?t="
        + flow.signer.sign(
            ActionClaim(escalation_id=escalation_id, case_id=case_id, action=action, expires_at=expires_at)
        )
        for action in actions
    }
    return links, expires_at


def _email_escalation(
    flow: CaseWorkflow,
    case: Case,
    mention: Mention,
    escalation_id: str,
    task_token: str,
    recipient: Person,
    wait: Wait,
) -> dict[str, Any]:
    """Store the escalation (what its links answer), then email it; returns the message id."""
    case_id = case.case_id
    now = flow.clock()
    links, expires_at = issue_links(flow, case_id, escalation_id, task_token, wait.role, recipient, ACTIONS)
    message = escalation_email(
        playbook=flow.playbook,
        case=case,
        mention=mention,
        thread=flow.store.mentions.for_case(case_id),
        dms=flow.store.dms.for_case(case_id),
        recipient=recipient,
        links=links,
        expires_at=expires_at,
        reminder=wait.reminder,
        supervisor=wait.role == "supervisor",
        escalation_id=escalation_id,
        wait=wait,
        now=now,
        rep=flow.assignee(case, mention),
        followed_unanswered=flow.followed_case_unanswered(case),
        **flow.reply_context(case, recipient.email),
    )
    return {"result_id": flow.mailer.send(message)}
