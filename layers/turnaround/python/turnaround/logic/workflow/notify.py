"""Notify: email the rep (or the supervisor) the whole case with signed action links, once per
wait; the newest email's links are the only ones that work. While a case's incident lasts, its wait
on the supervisor is listed in the incident's digest instead of an email of its own."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.logic.incidents import closing_summary_key
from turnaround.logic.rep_actions.links import ACTIONS, Action, ActionClaim
from turnaround.logic.workflow.emails import Wait, escalation_email
from turnaround.models.case import Case, Escalation, ShownPost
from turnaround.models.mention import Mention
from turnaround.models.playbook import Person
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow
    from turnaround.models.incident import Incident


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
    # A retry of a wait already recorded (counts and metric) records nothing twice.
    recorded = case.current_escalation_id == escalation_id
    incident = _incident_in_progress(flow, case) if role == "supervisor" and not final else None
    if incident is not None:
        if not recorded:
            # Recorded before the digest is checked: a closing summary claimed after this lists it.
            _listed_links(flow, case.case_id, escalation_id, task_token, recipient, wait)
            _record(flow, case, escalation_id, recipient, wait, ack_error_shown=False)
            _counted(case_id, wait)
            recorded = True
        if _into_incident_digest(flow, case, incident):
            return {"escalation_id": escalation_id, "emailed": False, "incident_id": incident.incident_id}
    once = flow.effects.at_most_once(
        f"{escalation_id}#email",
        lambda: _email_escalation(flow, case, mention, escalation_id, task_token, recipient, wait),
    )
    if once.made_now and not recorded:
        _record(flow, case, escalation_id, recipient, wait, ack_error_shown=case.ack_error is not None)
        _counted(case_id, wait)
    return {"escalation_id": escalation_id, "emailed": once.made_now}


def _record(
    flow: CaseWorkflow,
    case: Case,
    escalation_id: str,
    recipient: Person,
    wait: Wait,
    *,
    ack_error_shown: bool,
) -> None:
    """The case's wait is now this escalation. Counts are set from ``case`` as it was read before the
    wait began, so writing them twice for one wait counts it once."""
    reminder, supervisor, final = wait.reminder, wait.role == "supervisor", wait.final
    # Links in older emails for this case stop working: only the newest request can be answered.
    flow.store.cases.notified(
        case.case_id,
        at=flow.clock(),
        recipient=recipient.email,
        escalation_id=escalation_id,
        first=case.escalated_at is None,
        rep_reminders=case.reminders + 1 if reminder and not supervisor else None,
        supervisor=supervisor and not reminder,
        supervisor_reminders=case.supervisor_reminders + 1 if supervisor and reminder and not final else None,
        final=final,
        ack_error_shown=ack_error_shown,  # this email told them the ack was not posted
    )


def _counted(case_id: str, wait: Wait) -> None:
    metrics.add_metric(
        name="FinalNotices"
        if wait.final
        else "SupervisorEscalations"
        if wait.role == "supervisor"
        else ("RepReminders" if wait.reminder else "RepEscalations"),
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info("rep notified", extra={"case_id": case_id, "role": wait.role, "reminder": wait.reminder})


def _incident_in_progress(flow: CaseWorkflow, case: Case) -> Incident | None:
    """The case's incident while it lasts (not ended, not taken over by a later spike on its topic)."""
    if flow.playbook.incidents is None or not (case.incident_id and case.topic):
        return None
    incident = flow.store.incidents.current(case.handle, case.topic)
    if incident is None or incident.incident_id != case.incident_id or incident.ended_at is not None:
        return None
    return incident


def _listed_links(
    flow: CaseWorkflow, case_id: str, escalation_id: str, task_token: str, recipient: Person, wait: Wait
) -> None:
    if flow.store.escalations.get(escalation_id) is None:  # a retry keeps the first attempt's links
        issue_links(flow, case_id, escalation_id, task_token, wait.role, recipient, ACTIONS, listed=True)


def _into_incident_digest(flow: CaseWorkflow, case: Case, incident: Incident) -> bool:
    """An outage's cases reach the supervisor together: while the incident lasts, a case whose rep
    let the SLA pass waits on the supervisor in the incident's digest (its links listed there), not
    in an email of its own, so 40 cases are one email per digest interval and not 40 escalations and
    their reminders. The final notice, copied to ops, is never rolled up.

    False if the incident's closing summary was claimed already: it may have been written without
    this case, which then gets its own email after all."""
    if flow.effects.claimed(closing_summary_key(incident)):
        logger.info("incident summarised; the case gets its own email", extra={"case_id": case.case_id})
        return False
    flow.incident_digest(incident)  # this interval's, unless it went out: then the next lists the case
    return True


def issue_links(
    flow: CaseWorkflow,
    case_id: str,
    escalation_id: str,
    task_token: str,
    role: str,
    recipient: Person,
    actions: tuple[Action, ...],
    post: ShownPost | None = None,
    *,
    listed: bool = False,
) -> tuple[dict[str, str], int]:
    """Sign one link per action and store what they answer (the task token stays in DynamoDB), with
    the links themselves when a digest lists them (``listed``) rather than an email carrying them.
    Returns the links and their expiry."""
    now = flow.clock()
    expires_at = flow.playbook.sla.links_expire_at(now)
    links: dict[str, str] = {
        action: f"{flow.action_url}?t="
        + flow.signer.sign(
            ActionClaim(escalation_id=escalation_id, case_id=case_id, action=action, expires_at=expires_at)
        )
        for action in actions
    }
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
            links=links if listed else None,
        )
    )
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
