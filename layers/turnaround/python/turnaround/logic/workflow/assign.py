"""Assign: the workflow's first step. Counts the complaint towards its topic, opens or joins the
topic's incident when complaints spike (playbook ``incidents``), gives the case to the least-loaded
rep who may take it, and emails the supervisor the incident's digest when it opens (then the
schedule sends one per ``digest_minutes`` and the closing summary: logic/incidents.py). It runs
before the ack and the rep's email, so both see one rep; if it fails, the workflow goes on and the
rep is chosen from the roster as before."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from turnaround.exceptions import EarlierCaseNotAssigned
from turnaround.logic.incidents import count_towards_incident, list_in_incident, topic_of
from turnaround.observability import logger

# A DM the customer sent with no case open joins their next case if sent within this long before it.
ADOPT_DMS_SENT_WITHIN = timedelta(days=7)

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow
    from turnaround.models.case import Case
    from turnaround.models.mention import Mention
    from turnaround.models.playbook import Rep


def assign(flow: CaseWorkflow, case_id: str) -> dict[str, Any]:
    case = flow.case(case_id)
    mention = flow.root_mention(case)
    now = flow.clock()
    _adopt_earlier_dms(flow, case, now)
    if case.assigned_at is not None:  # a retry: the choice stands; finish what may not have happened
        return _joined(flow, case, mention, now)
    earlier = _earlier_open_case(flow, case)
    if earlier is not None and earlier.assignee_email is None:
        raise EarlierCaseNotAssigned(f"{case_id} waits for {earlier.case_id} to have its rep")
    settings = flow.playbook.incidents
    topic = topic_of(settings, mention) if settings else None
    # A spike is counted when the complaints arrived (ingest), not when their workflows got here:
    # in a storm the workflows start late, and the storm must not look slower than it was.
    arrived = min(case.opened_at, now)
    incident = (
        count_towards_incident(
            flow.store,
            settings,
            handle=case.handle,
            topic=topic,
            counted=case.case_id,
            arrived=arrived,
            noticed=now,
        )
        if settings and topic
        else None
    )
    candidates = flow.playbook.candidate_reps(mention.text, case.priority, whole_roster=incident is not None)
    # Outside support hours an urgent case goes to the on-call person (playbook support_hours.on_call),
    # even if a day rep has the customer's earlier case: the SLA it gets is on-call's
    on_call = flow.playbook.on_call_takes(case.priority, case.opened_at)
    rep = on_call or _rep_of(flow, earlier, mention, case.priority) or _least_loaded(flow, candidates)
    incident_id = incident.incident_id if incident else None
    follows = earlier.case_id if earlier else None
    if not flow.store.cases.assigned(
        case_id, rep.email, at=now, topic=topic, incident_id=incident_id, follows_case_id=follows
    ):
        return _joined(flow, flow.case(case_id), mention, now)  # an earlier attempt assigned it
    logger.info("assigned", extra={"case_id": case_id, "rep": rep.email, "incident_id": incident_id})
    return _joined(flow, flow.case(case_id), mention, now)


def _rep_of(flow: CaseWorkflow, earlier: Case | None, mention: Mention, priority: int) -> Rep | None:
    """The rep who has the customer's earlier case, if they take this one's priority: the customer
    has one person ("hello??" has no topic, and is for whoever has their bag)."""
    if earlier is None or earlier.assignee_email is None:
        return None
    eligible = flow.playbook.candidate_reps(mention.text, priority, whole_roster=True)
    return next((rep for rep in eligible if rep.email == earlier.assignee_email), None)


def _earlier_open_case(flow: CaseWorkflow, case: Case) -> Case | None:
    """The customer's oldest other case still OPEN and opened before this one (an impatient customer
    posting again outside the thread, or a second issue): the one that speaks to them."""
    earlier = [
        other
        for other in flow.store.cases.open_cases_of(case.customer_id)
        if _opened_order(other) < _opened_order(case)
    ]
    return min(earlier, key=_opened_order, default=None)


def _opened_order(case: Case) -> tuple[datetime, int]:
    # cases opened by one poll share their time: the earlier post (X's ids grow with time) first
    return case.opened_at, int(case.root_tweet_id) if case.root_tweet_id.isdigit() else 0


def _adopt_earlier_dms(flow: CaseWorkflow, case: Case, now: datetime) -> None:
    """DMs the customer sent us while they had no case (the unsure digest showed them, or will)
    join this case before its rep is emailed, so the rep sees what they already told us; one the
    digest has not shown yet is taken off it. Repeatable: a retry adopts nothing twice."""
    from turnaround.dal.review_queue import ReviewQueue

    queue = ReviewQueue(flow.store)
    since = case.opened_at - ADOPT_DMS_SENT_WITHIN
    for dm in queue.dms_from(case.handle, case.customer_id):
        if dm.created_at is not None and dm.created_at < since:
            continue
        if flow.store.dms.adopt(dm.event_id, case.case_id):
            logger.info("earlier DM threaded", extra={"case_id": case.case_id, "event_id": dm.event_id})
        if dm.digested_at is None:
            queue.claim_dm(dm, now)


def _joined(flow: CaseWorkflow, case: Case, mention: Mention, now: datetime) -> dict[str, Any]:
    """The case counts towards its rep's load; an incident case is listed for the digest and the
    digest sent (all repeatable: a retry after an SES rejection or a crash completes them)."""
    result = _result(case.case_id, case.assignee_email, case.incident_id, topic=case.topic)
    if case.assignee_email:
        flow.store.incidents.take_case(case.assignee_email, case.case_id)
    settings = flow.playbook.incidents
    if not (settings and case.incident_id and case.topic and case.assignee_email):
        return result
    incident = flow.store.incidents.current(case.handle, case.topic)
    if incident is None or incident.incident_id != case.incident_id:
        return result  # a later incident of the topic has taken over: this one's digests are done
    list_in_incident(
        flow.store,
        flow.playbook,
        incident.incident_id,
        case,
        mention,
        joined_at=min(case.opened_at, now),
        now=now,
    )
    flow.incident_digest(incident)  # this interval's, at most once: the first when it opens
    return result


def _result(
    case_id: str, rep_email: str | None, incident_id: str | None, *, topic: str | None
) -> dict[str, Any]:
    return {"case_id": case_id, "rep_email": rep_email, "topic": topic, "incident_id": incident_id}


def _least_loaded(flow: CaseWorkflow, candidates: list[Rep]) -> Rep:
    """The candidate with the fewest open cases (roster order breaks ties)."""
    if len(candidates) == 1:
        return candidates[0]
    loads = flow.store.incidents.rep_loads([rep.email for rep in candidates])
    return min(candidates, key=lambda rep: loads.get(rep.email, 0))
