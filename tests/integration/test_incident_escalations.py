"""An outage's overdue cases reach the supervisor in the incident's digest, not in an email each.

Eight customers say the app is down; their reps are busy and every case's SLA passes. Before this,
the supervisor got the incident digest and then one "Escalated" email per case, each followed by its
own reminders. Now, while the incident lasts, a case waiting on the supervisor is listed in the
digest with its own links; ordinary cases and final notices (copied to ops) still get their own
email, and once the incident has ended its cases do too. The real workflow tasks, moto's SES,
DynamoDB and Secrets Manager, the X emulator over real tweepy; the links are acted on through the
action page's own desk.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from tests.conftest import BRAND
from tests.helpers import edited_playbook
from tests.integration.test_reply_by_email import SUPERVISOR, World, dm_stream, plain, sent_emails
from tests.integration.test_reply_by_email import world as world  # the fixture
from turnaround.dal.incidents import window_start
from turnaround.handlers.workflow_tasks import build_case_workflow
from turnaround.logic.incidents import IncidentDesk
from turnaround.logic.rep_actions.desk import ActionDesk
from turnaround.logic.rep_actions.incident_end import IncidentEndDesk, IncidentLinkSigner
from turnaround.logic.rep_actions.links import ActionLinkUsed
from turnaround.logic.workflow.case_workflow import CaseWorkflow
from turnaround.models.case import Case
from turnaround.settings import WorkflowSettings, get_settings

OUTAGE = "@acmeair your app is down again and I can't check in for flight AC{n}. Useless."


@pytest.fixture
def outage(world: World, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    def small_storm(playbook: dict[str, Any]) -> None:
        playbook["incidents"].update(threshold=3, digest_minutes=15, quiet_minutes=60)

    monkeypatch.setenv("PLAYBOOK_PATH", edited_playbook(tmp_path, small_storm))
    get_settings.cache_clear()
    return world


def _flow() -> CaseWorkflow:
    return build_case_workflow(get_settings(WorkflowSettings))


def _complaints(world: World, count: int, start: int = 0) -> list[str]:
    """``count`` customers complain, one poll each; each case is assigned and its rep emailed."""
    case_ids = []
    for n in range(start, start + count):
        world.emulator.add_user(f"flyer{n}", name=f"Flyer{n} Smith", followers=100 + n)
        post = world.emulator.add_post(f"flyer{n}", OUTAGE.format(n=100 + n))
        world.clock.advance(5)
        world.ingest()
        case_id = f"case-{post.id}"
        _flow().assign(case_id)
        world.notify(case_id, token=f"rep-{case_id}")
        case_ids.append(case_id)
    return case_ids


def _case(world: World, case_id: str) -> Case:
    case = world.store.cases.get(case_id)
    assert case is not None
    return case


def _to_supervisor() -> list[EmailMessage]:
    return [m for m in sent_emails() if SUPERVISOR in str(m["To"])]


def _escalate(case_id: str, token: str, **wait: Any) -> dict[str, Any]:
    """The rep's SLA passed: the workflow's wait on the supervisor begins (NotifySupervisor, then
    RemindSupervisor and FinalNotice)."""
    return _flow().notify(case_id, token, "supervisor", **wait)


class _Workflow:
    """Step Functions' SendTaskSuccess/Failure, recorded."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self.answers.append((token, output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self.answers.append((token, {"error": error, "cause": cause}))


def _desk(world: World, workflow: Any) -> ActionDesk:
    flow = _flow()
    return ActionDesk(store=world.store, signer=flow.signer, workflow=workflow, playbook=flow.playbook)


def _incident_desk(world: World) -> IncidentDesk:
    flow = _flow()
    return IncidentDesk(store=world.store, mailer=flow.mailer, playbook=flow.playbook, clock=world.clock)


def _links(text: str, username: str) -> dict[str, str]:
    """The links listed under one customer's case in a digest's "Waiting on you"."""
    entry = text.split(f"  @{username} (P", 1)[1].split("\n  @", 1)[0]
    found = dict(re.findall(r"(Resolved|Could not resolve|Reassign): +(\S+)", entry))
    return {"resolved": found["Resolved"], "not_resolved": found["Could not resolve"]}


def test_an_outages_overdue_cases_are_one_digest_for_the_supervisor_each_with_its_own_links(
    outage: World,
) -> None:
    world = outage
    cases = _complaints(world, 8)
    in_incident = [c for c in cases if _case(world, c).incident_id]
    ordinary = [c for c in cases if c not in in_incident]
    assert len(in_incident) == 6 and len(ordinary) == 2  # the third complaint opened it
    [opened] = _to_supervisor()
    assert "incident opened" in opened["Subject"]

    world.clock.advance(20 * 60)  # every rep's SLA passes
    for case_id in cases:
        _escalate(case_id, f"supervisor-{case_id}")
    # The two ordinary cases are escalated one email each, as always; the incident's six are
    # listed in the digest of this interval, which the first of them sent: one email, not six.
    subjects = [m["Subject"] for m in _to_supervisor()[1:]]
    assert sum(s.startswith("Escalated") for s in subjects) == 2, subjects
    [digest] = [m for m in _to_supervisor()[1:] if m["Subject"].startswith("[Incident]")]
    assert digest["Subject"] == "[Incident] outage: 6 cases - update, 1 waiting on you"
    # The other five joined the wait after this interval's digest went out: the schedule's next
    # digest lists all six (most urgent and oldest first), and nothing more is emailed meanwhile.
    world.clock.advance(15 * 60)
    assert _incident_desk(world).tend("acmeair") == {"outage": "digest"}
    update = _to_supervisor()[-1]
    assert update["Subject"] == "[Incident] outage: 6 cases - update, 6 waiting on you"
    text = plain(update)
    assert "Waiting on you (6): the rep did not act in time." in text
    for case_id in in_incident:
        case = world.store.cases.get(case_id)
        assert case is not None and case.supervisor_escalated_at is not None
        assert f"@{case.customer_username} (P{case.priority}, rep {case.assignee_email}" in text

    # The supervisor resolves one case from the digest, and can't resolve it twice.
    workflow = _Workflow()
    first = world.store.cases.get(in_incident[0])
    assert first is not None
    links = _links(text, first.customer_username)
    assert _desk(world, workflow).act(links["resolved"].split("?t=")[1], note="app fixed") == "resolved"
    assert workflow.answers == [(f"supervisor-{in_incident[0]}", {"action": "resolved", "note": "app fixed"})]
    # A reminder while the incident lasts is listed too, with new links; the old ones are dead.
    second = world.store.cases.get(in_incident[1])
    assert second is not None
    before = len(_to_supervisor())
    _escalate(in_incident[1], "reminder-1", reminder=True, reminder_number=1)
    assert len(_to_supervisor()) == before  # this interval's digest has gone out: the next lists it
    stale = _links(text, second.customer_username)["resolved"].split("?t=")[1]
    with pytest.raises(Exception, match="newer email"):
        _desk(world, workflow).act(stale, note="")
    reminded = world.store.cases.get(in_incident[1])
    assert reminded is not None and reminded.supervisor_reminders == 1
    # The final notice is copied to ops and is never rolled up.
    _escalate(in_incident[2], "final", reminder=True, final=True)
    final = _to_supervisor()[-1]
    assert final["Subject"].startswith("Final notice: Escalated: [P") and len(_to_supervisor()) == before + 1
    assert "ops@" in str(final["To"])


def test_once_the_incident_has_ended_a_case_waiting_on_the_supervisor_gets_its_own_email(
    outage: World,
) -> None:
    world = outage
    cases = _complaints(world, 4)
    late = cases[-1]
    assert _case(world, late).incident_id
    world.clock.advance(20 * 60)
    _escalate(late, "supervisor-late")
    assert not any(m["Subject"].startswith("Escalated") for m in _to_supervisor())
    # An hour without a new complaint: the closing summary lists the waiting case with its links.
    world.clock.advance(61 * 60)
    assert _incident_desk(world).tend("acmeair") == {"outage": "ended"}
    summary = _to_supervisor()[-1]
    assert summary["Subject"] == "[Incident] outage: 2 cases - ended, 1 waiting on you"
    assert "Waiting on you (1)" in plain(summary) and "from its next reminder on" in plain(summary)
    # The incident is over: the case's next reminder is its own email.
    _escalate(late, "reminder-after", reminder=True, reminder_number=1)
    assert _to_supervisor()[-1]["Subject"] == "Reminder: Escalated: [P4] @flyer3 - case " + late[-6:]


def test_a_case_that_joins_the_wait_after_the_closing_summary_was_claimed_is_emailed(
    outage: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule sends the closing summary, then marks the incident ended; a crash between the
    two leaves it current. A case escalated then is not in the summary, so it gets its own email."""
    world = outage
    late = _complaints(world, 4)[-1]
    world.clock.advance(61 * 60)
    from turnaround.dal.incidents import IncidentRepository

    monkeypatch.setattr(IncidentRepository, "ended", lambda *args, **kwargs: False)
    _incident_desk(world).tend("acmeair")
    assert _to_supervisor()[-1]["Subject"].endswith("- ended")
    result = _escalate(late, "supervisor-late")
    assert result["emailed"] is True
    assert _to_supervisor()[-1]["Subject"].startswith("Escalated")
    escalated = world.store.cases.get(late)
    assert escalated is not None and escalated.supervisor_escalated_at is not None


def _end_desk(world: World) -> IncidentEndDesk:
    flow = _flow()
    signer = IncidentLinkSigner(flow.signer.keys)
    return IncidentEndDesk(store=world.store, signer=signer, playbook=flow.playbook, clock=world.clock)


def _end_token(message: EmailMessage) -> str:
    """The token of a digest's "End the incident now" link, from its plain text as a person reads it."""
    [token] = re.findall(r"/incident\?t=(\S+)", plain(message))
    return token


def test_the_supervisor_ends_the_incident_from_its_digest_and_the_summary_lists_every_waiting_case(
    outage: World,
) -> None:
    """The app is fixed but complaints trickle in, so the incident never goes quiet and each new
    complaint would still get the outage's ack. Was: ops set ``ended_at`` by hand, no closing summary
    went out, and a case that began to wait after that interval's digest was in no email."""
    world = outage
    cases = _complaints(world, 4)
    [opened] = _to_supervisor()
    token = _end_token(opened)  # the digest Assign sent has the link; the schedule's have it too
    world.clock.advance(20 * 60)  # the reps' SLAs pass: two cases begin to wait on the supervisor
    in_incident = [c for c in cases if _case(world, c).incident_id]
    _escalate(in_incident[0], "supervisor-first")
    [digest] = _to_supervisor()[1:]
    assert digest["Subject"].endswith("1 waiting on you") and _end_token(digest) != token
    _escalate(in_incident[1], "supervisor-second")  # this interval's digest went out: in no email yet
    assert len(_to_supervisor()) == 2

    claim, incident = _end_desk(world).preview(token)  # the confirm page: changes nothing
    assert claim.incident_id == incident.incident_id and incident.ended_at is None
    world.clock.advance(60)
    _end_desk(world).act(_end_token(digest))
    ended = world.store.incidents.current("acmeair", "outage")
    assert ended is not None and ended.ended_at == world.clock() and ended.ended_by == "Jordan Lee"
    with pytest.raises(ActionLinkUsed, match="already ended \\(Jordan Lee ended it at"):
        _end_desk(world).act(token)  # the older digest's link, or a second click
    # A complaint now is an ordinary case (its own ack, rep and email), not the incident's.
    [late] = _complaints(world, 1, start=4)
    assert _case(world, late).incident_id is None
    assert len(_to_supervisor()) == 2  # the action page sends no email: the schedule does

    assert _incident_desk(world).tend("acmeair") == {"outage": "ended"}
    summary = _to_supervisor()[-1]
    assert summary["Subject"] == "[Incident] outage: 2 cases - ended, 2 waiting on you"
    text = plain(summary)
    assert f'Incident {incident.incident_id} ("outage") has ended: Jordan Lee ended it at ' in text
    assert "Waiting on you (2)" in text and "/incident?t=" not in text
    assert _incident_desk(world).tend("acmeair") == {}
    assert len(_to_supervisor()) == 3


def test_a_new_spike_before_the_summary_of_an_incident_ended_by_hand_still_gets_it_once(
    outage: World,
) -> None:
    world = outage
    _complaints(world, 3)
    first = world.store.incidents.current("acmeair", "outage")
    assert first is not None
    _end_desk(world).act(_end_token(_to_supervisor()[0]))
    # Before the schedule runs, the outage comes back: a new spike opens the next incident, which
    # carries the one ended by hand until its summary is out.
    second = _complaints(world, 3, start=3)
    current = world.store.incidents.current("acmeair", "outage")
    assert current is not None and current.incident_id != first.incident_id
    assert current.replaces is not None and current.replaces.summary_due
    assert _case(world, second[-1]).incident_id == current.incident_id
    assert _incident_desk(world).tend("acmeair") == {"outage": "no digest due"}
    assert _incident_desk(world).tend("acmeair") == {"outage": "no digest due"}
    summaries = [m for m in _to_supervisor() if m["X-Turnaround-Thread"] == first.incident_id]
    assert [m["Subject"] for m in summaries] == [
        "[Incident] outage: 1 case - incident opened",
        "[Incident] outage: 1 case - ended",
    ]
    assert "Jordan Lee ended it at" in plain(summaries[1])


def test_people_piling_on_under_one_complaint_open_its_topics_incident(outage: World) -> None:
    """One customer says the app is down; others reply "same here" under their post. Each joins the
    case (no reply of their own), so before this the topic counted one complaint however many piled
    on, and the outage never became an incident. Now each person counts once towards the topic (a
    repeat poster does not count twice): at the threshold (3) the incident opens, the case joins it,
    the schedule sends the supervisor the opening digest, and the next complaint on the topic joins
    the incident too."""
    world = outage
    deliveries, lambdas = dm_stream(world.table)
    [first] = _complaints(world, 1)
    world.deliver_stream(deliveries, lambdas)

    def same_here(username: str, text: str) -> None:
        world.emulator.add_user(username)
        world.emulator.add_post(username, text, reply_to=_case(world, first).root_tweet_id)
        world.clock.advance(5)
        world.ingest()
        world.deliver_stream(deliveries, lambdas)

    same_here("crowd0", "@acmeair same here, can't log in either")
    same_here("crowd0", "@acmeair still down for me")  # the same person again: still 2 of 3
    assert _case(world, first).incident_id is None
    assert world.store.incidents.current(BRAND, "outage") is None
    same_here("crowd1", "@acmeair app down for me too, stuck at the gate")
    incident = world.store.incidents.current(BRAND, "outage")
    assert incident is not None and incident.opened_by_pile_on == "flyer0" and incident.opened_on_count == 3
    assert _case(world, first).incident_id == incident.incident_id
    assert [c.case_id for c in world.store.incidents.cases(incident.incident_id)] == [first]
    assert [c.customer_username for c in world.cases()] == ["flyer0"]  # still one case: no reply storm

    # The schedule's first run may come an interval later: its digest is still the opening one.
    world.clock.advance(20 * 60)
    assert _incident_desk(world).tend(BRAND) == {"outage": "digest"}
    [opened] = _to_supervisor()
    assert "incident opened" in opened["Subject"]
    body = plain(opened)
    assert "each person who piled on under @flyer0's complaint" in body and "@flyer0 (" in body
    assert _incident_desk(world).tend(BRAND) == {"outage": "no digest due"}  # that interval's, sent
    world.clock.advance(15 * 60)
    assert _incident_desk(world).tend(BRAND) == {"outage": "digest"}
    assert "update" in _to_supervisor()[-1]["Subject"]

    world.deliver_stream(deliveries, lambdas)  # a redelivery counts no one twice
    [joined] = _complaints(world, 1, start=1)  # a complaint of its own joins the incident
    assert _case(world, joined).incident_id == incident.incident_id
    listed = {c.case_id for c in world.store.incidents.cases(incident.incident_id)}
    assert listed == {first, joined}


def test_a_pile_on_that_comes_in_the_same_poll_as_the_complaint_counts_before_it_is_assigned(
    outage: World,
) -> None:
    """The complaint and three "same here" replies reach us in one poll (a backlog, a slow
    schedule): the replies join the case before its workflow has assigned it a topic. They count all
    the same, under the topic Assign then gives it, and Assign finds the incident they opened."""
    world = outage
    deliveries, lambdas = dm_stream(world.table)
    world.emulator.add_user("flyer0")
    root = world.emulator.add_post("flyer0", OUTAGE.format(n=100))
    for n in range(3):
        world.emulator.add_user(f"crowd{n}")
        world.emulator.add_post(f"crowd{n}", "@acmeair same, can't get in either", reply_to=root.id)
    world.clock.advance(5)
    world.ingest()
    case_id = f"case-{root.id}"
    world.deliver_stream(deliveries, lambdas)
    incident = world.store.incidents.current(BRAND, "outage")
    assert incident is not None and incident.opened_by_pile_on == "flyer0"
    _flow().assign(case_id)
    case = _case(world, case_id)
    assert case.incident_id == incident.incident_id and case.topic == "outage"
    [listed] = world.store.incidents.cases(incident.incident_id)
    assert listed.case_id == case_id and listed.rep_email == case.assignee_email


def test_a_spike_that_straddles_a_windows_end_still_opens_the_incident(outage: World) -> None:
    """Two complaints two minutes before a 15-minute window ends, two more two minutes after it:
    four within four minutes, over the threshold of 3, but only two in each fixed window. The
    previous window counts for its share still within the last 15 minutes, so the fourth opens it."""
    world = outage
    now = world.clock.now()
    boundary = window_start(now, 15) + timedelta(minutes=15)
    world.clock.advance((boundary - now).total_seconds() - 120)
    before = _complaints(world, 2)
    world.clock.advance(230)
    after = _complaints(world, 2, start=2)
    assert [_case(world, c).incident_id is not None for c in before + after] == [False, False, False, True]
    incident = world.store.incidents.current(BRAND, "outage")
    assert incident is not None and incident.opened_on_count == 3  # 2 + 2 x (13/15), whole complaints
