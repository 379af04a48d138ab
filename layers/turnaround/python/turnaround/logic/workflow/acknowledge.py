"""Acknowledge: one public reply in the brand's voice (the DM invite for charged and complex
complaints), only to a post that mentions or quotes us, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.dal.incidents import PostLane
from turnaround.exceptions import PostBudgetExhausted
from turnaround.logic.effects import ack_effect_key
from turnaround.logic.workflow.voice import (
    ack_withheld,
    after_hours_opening,
    case_ref,
    details_shown,
    first_name,
    opening_values,
)
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow
    from turnaround.models.case import Case
    from turnaround.models.mention import Mention


def acknowledge(flow: CaseWorkflow, case_id: str) -> dict[str, Any]:
    case = flow.case(case_id)
    mention = flow.root_mention(case)
    offline = mention.triage.goes_offline or details_shown(flow.playbook, mention) is not None
    rep = flow.assignee(case, mention)
    flow.store.cases.assign(case_id, rep.email, route="offline" if offline else "public")
    result = {"case_id": case_id, "offline": offline, "rep_email": rep.email, "acknowledged": False}
    not_ours = _not_ours_to_send(flow, case, mention)
    if not_ours:
        return {**result, "reason": not_ours}
    lang = mention.triage.lang
    flow.effects.check_posting_hold()
    post_at = _post_slot(flow, case)
    if post_at is not None and post_at > flow.clock():
        # Queued: the state machine waits until the slot (the rep has the case already), then runs
        # this task again, which checks again that nobody settled the case meanwhile.
        if case.ack_post_at is None:
            metrics.add_metric(name="AcksQueued", unit=MetricUnit.Count, value=1)
        logger.info("ack queued", extra={"case_id": case_id, "post_at": post_at.isoformat()})
        return {**result, "post_at": zulu(post_at)}
    author = mention.author
    values = {
        "customer": author.username,
        "first_name": first_name(author),
        "initials": rep.initials,
        "case_ref": case_ref(case_id),
    }
    # In an incident every case points to the one status post (and invites no DM), except one that
    # joined a topic's incident by its words and needs the customer's details ("the app is down and
    # you charged me twice"): the status post will not refund them, so it keeps its DM invite. (A
    # backlash under or quoting a post of ours is about that post: its status post answers it.)
    # (Judged only for a case in an incident: the triage cues are not loaded for any other ack.)
    in_incident = bool(case.incident_id and case.topic)
    own_ack = in_incident and offline and not mention.answers_our_post and _needs_details(flow, mention)
    text = None if own_ack else _incident_ack(flow, case, lang, values)
    incident_ack = text is not None
    if text is None:
        situation, extra = _ack_situation(flow, case, "ack_offline" if offline else "ack_public", lang)
        text = flow.playbook.render(situation, key=case_id, lang=lang, **values, **extra)
    x = flow.x_for(case.handle)
    deep_link_to = flow.brand_user_id(case.handle) if offline and not incident_ack else None

    if _late_and_unsent(flow, case, mention):
        by_hand = _answered_on_x(flow, case, mention.conversation_id)
        if by_hand is not None:
            # A late ack (queued in a storm, or retried through X's limits) after someone of the
            # brand answered in X's app would be a canned step backwards: the rep has the case.
            metrics.add_metric(name="AcksSkippedAnsweredOnX", unit=MetricUnit.Count, value=1)
            logger.info("ack skipped: answered on X", extra={"case_id": case_id, "tweet_id": by_hand})
            return {**result, "reason": f"already answered on X for the brand (post {by_hand})"}

    once = flow.effects.post(
        ack_effect_key(case_id), lambda: x.reply(case.root_tweet_id, text, dm_deep_link_to=deep_link_to)
    )
    if once.recorded.pre_empted_by:
        # The rep's emailed reply won the shared claim after our checks above: it is posted (or
        # being posted, or retried by Lambda), and our canned "we're on it" must not follow it.
        metrics.add_metric(name="AcksPreEmptedByRep", unit=MetricUnit.Count, value=1)
        logger.info("ack pre-empted by the rep's reply", extra={"case_id": case_id})
        return {**result, "reason": "the rep's emailed reply went first"}
    tweet_id, posted_now = once.recorded.result_id, once.made_now
    now = once.recorded.completed_at or flow.clock()
    if posted_now or case.first_response_at is None:
        # Also after a crash between the post and this record: the retry finds the post made.
        flow.store.cases.acknowledged(case_id, tweet_id=tweet_id, text=text, at=now)
    if posted_now:
        metrics.add_metric(name="Acknowledged", unit=MetricUnit.Count, value=1)
        metrics.add_metric(
            name="FirstResponseSeconds",
            unit=MetricUnit.Seconds,
            value=max(0.0, (now - case.opened_at).total_seconds()),
        )
    logger.info("acknowledged", extra={"case_id": case_id, "tweet_id": tweet_id, "offline": offline})
    return {**result, "acknowledged": True, "tweet_id": tweet_id, "incident_ack": incident_ack}


def _needs_details(flow: CaseWorkflow, mention: Mention) -> bool:
    """The complaint names account, booking, bag or payment matters, or shows personal details."""
    from turnaround.logic.triage import offline_topics  # the triage cues: only for an offline case

    return (
        bool(offline_topics(mention.text, mention.triage.lang))
        or details_shown(flow.playbook, mention) is not None
    )


def _ack_situation(
    flow: CaseWorkflow, case: Case, usual: str, lang: str | None
) -> tuple[str, dict[str, str]]:
    """The after-hours variant of the ack (with when the team opens), for a case that came in
    outside support hours and that no on-call person has; else the usual one. A playbook without
    after-hours templates in the customer's language keeps the usual ack."""
    playbook = flow.playbook
    opening = after_hours_opening(playbook, case)
    situation = f"{usual}_after_hours"
    if opening is None or not playbook.has_variants(situation, lang):
        return usual, {}
    return situation, opening_values(opening, lang)


def _not_ours_to_send(flow: CaseWorkflow, case: Case, mention: Mention) -> str | None:
    """Why no automated ack goes out for this case (None: it may)."""
    if case.opted_out:
        return "customer opted out"
    if _settled_by_a_person(flow, case):
        # The ack runs beside the rep's email and may still be retrying X's rate limit: "we're on
        # it" after the rep has settled the case would embarrass the brand.
        return "a person already settled the case"
    if _answered_by_the_rep(flow, case):
        # A queued or retried ack can come after the rep's own reply by email: the canned "sorry,
        # we're on it" would then be a second reply of ours and a step backwards. (A reply racing
        # this check is caught by the ack's claim, which the rep's reply pre-empts.)
        return "the rep already replied to the customer"
    unanswered = flow.followed_case_unanswered(case)
    withheld = ack_withheld(flow.playbook, case, mention, followed_unanswered=unanswered)
    return withheld  # if any, the rep, emailed at once, writes the first reply


# An ack this long after the complaint may have been overtaken by a person answering in X's app.
LATE_ACK = timedelta(minutes=2)
# At most this many pages (100 posts each) of our own newer posts are read to find such an answer.
OWN_PAGES = 5


def _late_and_unsent(flow: CaseWorkflow, case: Case, mention: Mention) -> bool:
    """Late, and never tried: a retry after a crash would find its own ack on X (it is in doubt
    or made, and the effects module settles it). Late from the post, not the case: a post read an
    hour late (X was down) may have been answered in X's app meanwhile."""
    posted = min(case.opened_at, mention.created_at or case.opened_at)
    late = case.first_response_at is None and flow.clock() - posted > LATE_ACK
    return late and not flow.effects.tried(ack_effect_key(case.case_id))


def _answered_on_x(flow: CaseWorkflow, case: Case, conversation_id: str) -> str | None:
    """The id of a reply of the brand's to this customer in the complaint's conversation, newer than
    the complaint: a person answered in X's app (or a rep by email; the ack is never tried before
    this). Replies to others there (an earlier case of the same thread) are not an answer."""
    x, brand_id, token = flow.x_for(case.handle), flow.brand_user_id(case.handle), None
    for _ in range(OWN_PAGES):
        page, _ = x.own_replies_page(brand_id, since_id=case.root_tweet_id, pagination_token=token)
        for post in page.data:
            if post.conversation_id == conversation_id and (
                post.reference("replied_to") == case.root_tweet_id
                or post.in_reply_to_user_id == case.customer_id
            ):
                return post.id
        token = page.meta.next_token
        if token is None:
            return None
    return None


def _post_slot(flow: CaseWorkflow, case: Case) -> datetime | None:
    """When the ack may be posted: its slot in the handle's ack queue, reserved on the first attempt
    (None without a post budget: at once).

    Two first-come lanes share our budget of X's post window: ordinary acks take the next slot of
    theirs, which holds ``budget - urgent_reserve`` in any 15 minutes; priority 1-2 acks the earlier
    of both lanes' next slots (the urgent lane holds ``urgent_reserve``), so a VIP goes before the
    backlog. So no 15 minutes, rolling, hold more than the budget, an idle queue posts at once (a
    burst up to the lane's share), and a later complaint only ever queues behind earlier ones, so
    none is starved. Raises PostBudgetExhausted when the queue is longer than
    ``max_ack_wait_minutes`` (the rep has the case; a late "we're on it" helps nobody)."""
    settings = flow.playbook.incidents
    if settings is None:
        return None
    if case.ack_post_at is not None:
        return case.ack_post_at  # reserved by an earlier attempt (a retry, or after the Wait)
    budget, reserve = settings.post_budget_per_15_minutes, settings.urgent_reserve
    ordinary = PostLane("ordinary", budget - reserve)
    urgent = case.priority <= 2
    lanes = [PostLane("urgent", reserve), ordinary] if urgent and reserve else [ordinary]
    now = flow.clock()
    slot = flow.store.incidents.reserve_post_slot(
        case.handle,
        case.case_id,
        now=now,
        lanes=lanes,
        latest=now + timedelta(minutes=settings.max_ack_wait_minutes),
    )
    if slot is None:
        raise PostBudgetExhausted(
            f"the ack queue of @{case.handle} is full for the next {settings.max_ack_wait_minutes} minutes"
            + ("" if urgent else " (priority 1-2 cases still go first)")
        )
    return slot


def zulu(at: datetime) -> str:
    """``at`` rounded up to the second, as Step Functions' Wait reads a timestamp."""
    whole = at.replace(microsecond=0) + (timedelta(seconds=1) if at.microsecond else timedelta())
    return whole.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _answered_by_the_rep(flow: CaseWorkflow, case: Case) -> bool:
    if case.first_response_at is not None:
        return False  # our ack went out first (this is a retry recording it)
    return any(m.outcome == "posted" for m in flow.store.conversation.messages(case.case_id))
