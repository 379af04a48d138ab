"""Incidents (playbook ``incidents``): how complaints count towards one, and the supervisor's view of
it while it lasts, and its end.

A complaint counts once towards its topic's window when its workflow assigns it (``Assign``); so
does each person who joins a complaint's thread (a pile-on: logic/reply_mail/reply_desk.py), since
20 people saying "same here" under one post are as much a spike as 20 posts of their own.
A digest goes out when the incident opens (``Assign``, the workflow's first step), then one per
``digest_minutes`` interval while the incident lasts, whether or not a case joined in it: the first
of a case joining (``Assign``) or the schedule (``IncidentDigestFunction``) sends it. When
``quiet_minutes`` pass without a new case, the schedule sends one closing summary and marks the
incident ended (a later spike on the topic opens a new one; one that comes before the schedule has
ended the quiet incident carries it, and the schedule sends its summary all the same). Every email
goes through the effects outbox under a key per incident and interval, so a retry or a second sweep
never doubles it and an SES rejection releases the claim for the next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.clock import utc_now
from turnaround.dal.incidents import keep_counts_until, window_start
from turnaround.logic.effects import Clock, Effects
from turnaround.models.incident import Incident, IncidentCase
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.adapters.mailer import Mailer
    from turnaround.dal.repositories import Repositories
    from turnaround.logic.rep_actions.incident_end import IncidentLinkSigner
    from turnaround.models.case import Case
    from turnaround.models.mention import Mention
    from turnaround.models.playbook import Incidents, Playbook


# The topic of complaints under (or quoting) one of our own posts: this prefix and the post's id.
THREAD_TOPIC = "replies-to-"


def topic_of(settings: Incidents, complaint: Mention) -> str | None:
    """The topic a complaint counts towards: the first playbook topic whose words it contains; else,
    in a direct reply to (or quoting) a post of ours, that post's own topic (a backlash under our
    outage notice or promotion); else none."""
    topic = settings.topic_of(complaint.text)
    if topic is None and complaint.answers_our_post:
        topic = f"{THREAD_TOPIC}{complaint.answers_our_post}"
    return topic


def count_towards_incident(
    store: Repositories,
    settings: Incidents,
    *,
    handle: str,
    topic: str,
    counted: str,
    arrived: datetime,
    noticed: datetime,
    pile_on_under: str | None = None,
) -> Incident | None:
    """Count ``counted`` (a case, or a person in a case's thread) towards the topic's window, once
    however often this is called for it; then the topic's active incident, joined, or one opened now
    if the count crossed the threshold. ``arrived`` is when the complaint reached us (a spike is
    counted then, not when a backlog got to it), ``noticed`` when this ran; ``pile_on_under``: the
    customer whose thread the counted person joined (the opening digest says so)."""
    incidents = store.incidents
    active_since = arrived - timedelta(minutes=settings.quiet_minutes)
    start = window_start(arrived, settings.window_minutes)
    count = incidents.count_complaint(
        handle,
        topic,
        start,
        case_id=counted,
        keep_until=keep_counts_until(arrived, settings.window_minutes),
    )
    joined = incidents.join(handle, topic, at=arrived, active_since=active_since)
    if joined:
        return joined
    if count < settings.threshold:
        # A spike that straddles the end of a fixed window would stay under the threshold in both:
        # the previous window counts too, for the share of it still within the last window_minutes
        # (the sliding-window counter rate limiters use: two reads, only below the threshold).
        # Not when the topic's last incident ended since that window began: those complaints were its.
        span = timedelta(minutes=settings.window_minutes)
        last = incidents.current(handle, topic)
        if last is not None and last.ended_at is not None and last.ended_at >= start - span:
            return None
        previous = incidents.window_count(handle, topic, start - span)
        count = int(count + previous * (1 - (arrived - start) / span))
        if count < settings.threshold:
            return None
    opened = Incident(
        incident_id=f"incident-{topic}-{arrived.strftime('%Y%m%dT%H%M%S')}",
        handle=handle,
        topic=topic,
        opened_at=arrived,
        last_case_at=arrived,
        status_url=settings.status_url,
        opened_on_count=count,
        noticed_at=noticed,
        opened_by_pile_on=pile_on_under,
    )
    if incidents.open(opened, active_since=active_since):
        if topic not in settings.topics:  # complaints under our own post: the schedule must find it
            incidents.note_thread_topic(handle, topic)
        metrics.add_metric(name="IncidentsOpened", unit=MetricUnit.Count, value=1)
        logger.warning(
            "incident opened",
            extra={"incident_id": opened.incident_id, "topic": topic, "pile_on_under": pile_on_under},
        )
        return opened
    # Another complaint opened it a moment ago: join that one.
    return incidents.join(handle, topic, at=arrived, active_since=active_since)


def list_in_incident(
    store: Repositories,
    playbook: Playbook,
    incident_id: str,
    case: Case,
    root: Mention | None,
    *,
    joined_at: datetime,
    now: datetime,
) -> None:
    """The case on the incident's list, as the supervisor's digest shows it: its post (``root``),
    reach and rep. A put: listing it again (a retry) changes nothing."""
    store.incidents.add_case(
        incident_id,
        IncidentCase(
            case_id=case.case_id,
            tweet_id=case.root_tweet_id,
            username=case.customer_username,
            followers=root.author.followers if root else 0,
            verified=root.author.verified if root else False,
            priority=case.priority,
            text=root.text if root else "",
            rep_email=case.assignee_email or "nobody",  # a pile-on may list it before Assign
            joined_at=joined_at,
        ),
        expires_at=store.ref.expires_at(now, playbook.retention.closed_cases_days),
    )


def digest_interval(incident: Incident, settings: Incidents, now: datetime) -> int:
    """Which ``digest_minutes`` interval ``now`` falls in, counted from when the workflow opened the
    incident (in a backlog, later than the complaints arrived); 0 is the opening digest's."""
    since = (now - (incident.noticed_at or incident.opened_at)).total_seconds()
    return max(0, int(since // (settings.digest_minutes * 60)))


def digest_key(incident: Incident, interval: int) -> str:
    """The outbox key of the incident's digest of one ``digest_minutes`` interval."""
    return f"{incident.incident_id}#digest#{interval}"


def closing_summary_key(incident: Incident) -> str:
    """The outbox key of the incident's closing summary: once it is claimed, no later digest comes."""
    return f"{incident.incident_id}#ended"


def waiting_on_supervisor(store: Repositories, playbook: Playbook, standing: list[Case]) -> list[Waiting]:
    """The incident's open cases whose wait on the supervisor the digest carries (their rep let the
    SLA pass while the incident lasted: logic/workflow/notify.py), oldest wait first, with the
    links that answer it. A case the supervisor was emailed about on its own is not listed."""
    waiting = []
    for case in standing:
        if case.status != "OPEN" or case.resolved_at or case.last_notified != playbook.supervisor.email:
            continue
        escalation = store.escalations.get(case.current_escalation_id) if case.current_escalation_id else None
        if escalation is not None and escalation.links and escalation.used_at is None:
            waiting.append(Waiting(case=case, since=escalation.created_at, links=escalation.links))
    return sorted(waiting, key=lambda w: (w.case.priority, w.since))


@dataclass(frozen=True)
class Waiting:
    """A case waiting on the supervisor, as the incident digest lists it."""

    case: Case
    since: datetime
    links: dict[str, str]


@dataclass
class IncidentDesk:
    """What the schedule does for each monitored handle's incidents: a digest per interval while
    one lasts, the closing summary when it has been quiet long enough."""

    store: Repositories
    mailer: Mailer
    playbook: Playbook
    # Signs each digest's "End this incident" link to the action page (rep_actions/incident_end.py).
    signer: IncidentLinkSigner | None = None
    action_url: str = ""
    clock: Clock = utc_now
    effects: Effects = field(init=False)

    def __post_init__(self) -> None:
        self.effects = Effects(self.store, self.clock)

    def tend(self, handle: str) -> dict[str, str]:
        """Per topic with an incident not yet ended: "ended", "digest" (sent now) or "no digest due"."""
        settings = self.playbook.incidents
        if settings is None:
            return {}
        done: dict[str, str] = {}
        threads = self.store.incidents.thread_topics(handle)
        for topic in [*settings.topics, *threads]:
            incident = self.store.incidents.current(handle, topic)
            if incident is not None and incident.replaces is not None:
                # A new spike took the topic over before this sweep ended the quiet one.
                self._owed_summary(incident.replaces, incident, "replaces")
            if incident is not None and incident.ended_at is None:
                done[topic] = self._tend(settings, incident)
            elif incident is not None and incident.summary_due:
                # The supervisor ended it from a digest's link, which only marked it.
                self._owed_summary(incident, incident, "summary_due")
                done[topic] = "ended"
            if topic in threads and (incident is None or done.get(topic, "ended") == "ended"):
                self.store.incidents.forget_thread_topic(handle, topic)
        return done

    def _owed_summary(
        self, ended: Incident, current: Incident, owed_by: Literal["replaces", "summary_due"]
    ) -> None:
        """The closing summary of ``ended``, which the topic's ``current`` incident keeps owed: sent
        (once: the outbox), then no longer owed."""
        self.send(ended, self.clock(), ended=True)
        self.store.incidents.summary_sent(current, owed_by)
        metrics.add_metric(name="IncidentsEnded", unit=MetricUnit.Count, value=1)
        logger.warning("incident ended", extra={"incident_id": ended.incident_id})

    def _tend(self, settings: Incidents, incident: Incident) -> str:
        now = self.clock()
        quiet_since = now - timedelta(minutes=settings.quiet_minutes)
        if incident.last_case_at < quiet_since:
            # The summary first, then the mark: a crash between them leaves the incident open, and
            # the next sweep finds the summary sent (the outbox) and only marks it.
            self.send(incident, now, ended=True)
            if self.store.incidents.ended(incident, at=now, quiet_since=quiet_since):
                metrics.add_metric(name="IncidentsEnded", unit=MetricUnit.Count, value=1)
                logger.warning("incident ended", extra={"incident_id": incident.incident_id})
            return "ended"
        return "digest" if self.send(incident, now, ended=False) else "no digest due"

    def send(self, incident: Incident, now: datetime, *, ended: bool = False) -> bool:
        """The digest of ``now``'s interval (or the closing summary), at most once; True if sent now.
        The schedule sends it, and the workflow (CaseWorkflow.incident_digest) when a case joins or
        begins to wait on the supervisor first in an interval."""
        settings = self.playbook.incidents
        assert settings is not None  # only incidents of a playbook with storm mode reach here
        interval = digest_interval(incident, settings, now)
        key = closing_summary_key(incident) if ended else digest_key(incident, interval)

        def email() -> dict[str, Any]:
            from turnaround.logic.workflow.incident_email import incident_digest_email

            cases = self.store.incidents.cases(incident.incident_id)
            standing = self.store.cases.get_many([c.case_id for c in cases])
            message = incident_digest_email(
                playbook=self.playbook,
                incident=incident,
                cases=cases,
                standing=standing,
                waiting=waiting_on_supervisor(self.store, self.playbook, standing),
                now=now,
                first=not ended and self._first_digest(incident, interval),
                ended=ended,
                end_link=None if ended else self._end_link(incident, now),
            )
            return {"result_id": self.mailer.send(message)}

        once = self.effects.at_most_once(key, email)
        if once.made_now:
            metrics.add_metric(name="IncidentDigests", unit=MetricUnit.Count, value=1)
        return once.made_now

    def _first_digest(self, incident: Incident, interval: int) -> bool:
        """Whether no digest of the incident went out before ``interval``'s: the opening one, which
        says why it opened. An incident a pile-on opened (reply_desk.py) gets it from the schedule,
        which may first run in a later interval."""
        return not any(self.effects.claimed(digest_key(incident, i)) for i in range(interval))

    def _end_link(self, incident: Incident, now: datetime) -> str | None:
        if self.signer is None or not self.action_url:
            return None
        from turnaround.logic.rep_actions.incident_end import end_link

        expires_at = self.playbook.sla.links_expire_at(now)
        return end_link(self.signer, self.action_url, incident, expires_at=expires_at)
