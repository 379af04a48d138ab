"""An acknowledgement that could not be posted never blocks or fails the case: it is recorded on the
case, the rep is told in the case's email thread (the customer has heard nothing yet), and ops are
told once a day per kind of failure where they can act on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.logic.reply_mail.reply_emails import thread_headers
from turnaround.logic.workflow.alert_ops import case_and_post
from turnaround.logic.workflow.emails import BILLING_STOPS, ack_not_posted_email, ops_alert_email
from turnaround.models.case import AckError
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow

# What the rep reads; an error not listed is named as it is.
REASONS = {
    "XRateLimited": "X's post limit stayed reached through our retries",
    "XApiUnavailable": "X was unavailable (server errors or timeouts) through our retries",
    "XCreditsExhausted": "X's billing stopped all posting (credits spent); ops were alerted",
    "XUsageCapped": "X's billing stopped all posting (usage cap); ops were alerted",
    "XReplyNotAllowed": "X refused the reply (the post no longer allows it, or we already replied)",
    "XDuplicateContent": "X refused the text as a duplicate of another of our posts",
    "XPostDeleted": "the customer deleted the post (or it is no longer visible to us), so there is "
    "nothing to reply to publicly",
    "XBlockedByCustomer": "the customer has blocked our account on X, so no public reply or DM of ours "
    "reaches them",
    "XForbidden": "X refused the reply (our access tier or permissions)",
    "XUnauthorized": "X rejected our credentials; ops were alerted",
    "PostBudgetExhausted": "the storm's ack queue was too long (a reply from you now beats a late ack)",
}
# Where X leaves the rep nothing to reply to, a reply to the note could not reach the customer.
HOW_TO_ANSWER = {
    "XPostDeleted": "If they write to us again (a post or a DM), it comes to this thread and your reply "
    "to this email goes to them; until then there is nothing of theirs on X to answer",
    "XBlockedByCustomer": "Nothing we post or DM on X reaches them while they block us: reach them by "
    "email or phone if you have their details",
}
# Nothing for ops to do: a storm's rate limit (or our ack queue) passes, a refusal concerns one post,
# and the billing stop already alerted them (AlertOpsBudget).
OPS_NEED_NOT_ACT = {
    "XRateLimited",
    "XReplyNotAllowed",
    "XDuplicateContent",
    "XPostDeleted",
    "XBlockedByCustomer",
    "PostBudgetExhausted",
    *BILLING_STOPS,
}


def ack_not_posted(flow: CaseWorkflow, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
    name = str(error.get("Error", "Unknown"))
    reason = REASONS.get(name, f"it failed ({name})")
    now = flow.clock()
    flow.store.cases.ack_not_posted(case_id, AckError(error=name, reason=reason, at=now))
    metrics.add_metric(name="AcksNotPosted", unit=MetricUnit.Count, value=1)
    logger.warning("acknowledgement not posted", extra={"case_id": case_id, "error": name})
    case, mention = case_and_post(flow, case_id)
    told_rep = False
    # The rep's case email shows the failure when it was known at sending; otherwise a note follows.
    if case and mention and not case.ack_error_shown:
        rep = flow.assignee(case, mention)
        domain = flow.replies.signer.domain if flow.replies else flow.playbook.sender_email.split("@")[1]
        message = ack_not_posted_email(
            playbook=flow.playbook,
            case=case,
            recipient=rep,
            username=mention.author.username,
            reason=reason,
            how_to_answer=HOW_TO_ANSWER.get(name, ""),
            # Its reply address too: the newest email of the thread is the one a rep answers.
            headers=thread_headers(
                case_id,
                domain,
                reply_to=flow.replies.reply_address(case_id, str(rep.email)) if flow.replies else None,
            )
            | {"X-Turnaround-Case": case_id, "X-Turnaround-Effect": "ack-not-posted"},
        )
        told_rep = flow.effects.at_most_once(
            f"{case_id}#ack-not-posted", lambda: {"result_id": flow.mailer.send(message)}
        ).made_now
    told_ops = False
    if name not in OPS_NEED_NOT_ACT:
        alert = ops_alert_email(
            playbook=flow.playbook,
            case_id=case_id,
            error=name,
            cause=str(error.get("Cause", "")),
            what="An acknowledgement could not be posted (one email a day for this error)",
            case=case,
            mention=mention,
        )
        told_ops = flow.effects.at_most_once(
            f"ops-alert#ack#{name}#{now.date().isoformat()}", lambda: {"result_id": flow.mailer.send(alert)}
        ).made_now
    hold = flow.effects.posting_hold() if name in BILLING_STOPS else None
    day = now.date().isoformat()
    if hold is not None and not hold.since.startswith(day):  # the day it began, its own alert did
        # The first alert went out when the hold began; a hold nobody lifts after the top-up keeps
        # the brand silent on X for good. While acks are held, ops hear of it once a day.
        metrics.add_metric(name="AcksHeldForBilling", unit=MetricUnit.Count, value=1)
        reminder = ops_alert_email(
            playbook=flow.playbook, case_id=case_id, error=name, cause=hold.reason, held_since=hold.since
        )
        told_ops = flow.effects.at_most_once(
            f"ops-alert#posting-hold#{day}",
            lambda: {"result_id": flow.mailer.send(reminder)},
        ).made_now
    return {"recorded": True, "error": name, "told_rep": told_rep, "told_ops": told_ops}
