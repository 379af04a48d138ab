"""Acknowledge: one public reply in the brand's voice (the DM invite for charged and complex
complaints), only to a post that mentions or quotes us, never twice."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.dal.incidents import window_start
from turnaround.exceptions import PostBudgetExhausted
from turnaround.logic.workflow.voice import case_ref, first_name
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow
    from turnaround.models.case import Case


def acknowledge(flow: CaseWorkflow, case_id: str) -> dict[str, Any]:
    case = flow.case(case_id)
    mention = flow.root_mention(case)
    offline = mention.triage.goes_offline
    rep = flow.assignee(case, mention)
    flow.store.cases.assign(case_id, rep.email, route="offline" if offline else "public")
    result = {"case_id": case_id, "offline": offline, "rep_email": rep.email, "acknowledged": False}
    if case.opted_out:
        return {**result, "reason": "customer opted out"}
    if _settled_by_a_person(flow, case):
        # The ack runs beside the rep's email and may still be retrying X's rate limit: "we're on
        # it" after the rep has settled the case would embarrass the brand.
        return {**result, "reason": "a person already settled the case"}
    if not mention.mentions_handle:
        # X only allows replies to posts that mention or quote us: a human decides instead.
        return {**result, "reason": "post does not mention or quote us"}
    lang = mention.triage.lang
    if not flow.playbook.speaks(lang):  # never an English canned reply to another language
        return {**result, "reason": f"no reply templates in the customer's language ({lang})"}
    flow.effects.check_posting_hold()
    author = mention.author
    values = {
        "customer": author.username,
        "first_name": first_name(author),
        "initials": rep.initials,
        "case_ref": case_ref(case_id),
    }
    # In an incident every case points to the one status post (and invites no DM).
    text = _incident_ack(flow, case, lang, values)
    incident_ack = text is not None
    if text is None:
        text = flow.playbook.render(
            "ack_offline" if offline else "ack_public", key=case_id, lang=lang, **values
        )
    x = flow.x_for(case.handle)
    deep_link_to = flow.brand_user_id(case.handle) if offline and not incident_ack else None

    def post() -> str:
        _take_post_slot(flow, case)  # inside the claim: a retry that finds the ack posted takes none
        return x.reply(case.root_tweet_id, text, dm_deep_link_to=deep_link_to)

    tweet_id, posted_now = flow.effects.post_once(f"{case_id}#ack", post)
    if posted_now:
        now = flow.clock()
        flow.store.cases.acknowledged(case_id, tweet_id=tweet_id, at=now)
        metrics.add_metric(name="Acknowledged", unit=MetricUnit.Count, value=1)
        metrics.add_metric(
            name="FirstResponseSeconds",
            unit=MetricUnit.Seconds,
            value=max(0.0, (now - case.opened_at).total_seconds()),
        )
    logger.info("acknowledged", extra={"case_id": case_id, "tweet_id": tweet_id, "offline": offline})
    return {**result, "acknowledged": True, "tweet_id": tweet_id, "incident_ack": incident_ack}


def _take_post_slot(flow: CaseWorkflow, case: Case) -> None:
    """Our share of X's post window, urgent cases first: raise PostBudgetExhausted when it is used
    up (the state machine retries, and the window refills every 15 minutes, so every ack gets a turn)."""
    settings = flow.playbook.incidents
    if settings is None:
        return
    now = flow.clock()
    urgent = case.priority <= 2
    limit = settings.post_budget_per_15_minutes - (0 if urgent else settings.urgent_reserve)
    if not flow.store.incidents.take_post_slot(
        case.handle, window_start(now, 15), limit=limit, keep_until=now + timedelta(minutes=30)
    ):
        metrics.add_metric(name="AcksQueued", unit=MetricUnit.Count, value=1)
        raise PostBudgetExhausted(
            f"{limit} acks posted in this 15-minute window for @{case.handle}"
            + ("" if urgent else " (the rest is reserved for priority 1-2)")
        )


def _incident_ack(flow: CaseWorkflow, case: Case, lang: str | None, values: dict[str, str]) -> str | None:
    """The incident template with the incident's status post, if the case joined an incident."""
    if not (case.incident_id and case.topic):
        return None
    incident = flow.store.incidents.current(case.handle, case.topic)
    settings = flow.playbook.incidents
    status_url = (
        incident.status_url
        if incident and incident.incident_id == case.incident_id
        else settings.status_url
        if settings
        else None
    )
    if status_url is None:
        return None
    return flow.playbook.render_incident_ack(key=case.case_id, lang=lang, status_url=status_url, **values)


def _settled_by_a_person(flow: CaseWorkflow, case: Case) -> bool:
    escalation_id = case.current_escalation_id
    escalation = flow.store.escalations.get(escalation_id) if escalation_id else None
    return bool(escalation and escalation.used_at and escalation.used_action != "reassign")
