"""Storm mode on the deployed stack: complaints on one topic past the playbook's threshold become one
incident, the supervisor gets its digest once, incident cases are acknowledged with the incident
template pointing to the status post, spread over the roster by load, and every case reaches a rep.
X is the emulator over HTTP (real tweepy), email is moto's SES, the ASL runs on moto's interpreter."""

from __future__ import annotations

import time

import pytest

from local_cloud.cloud import action_links
from tests.cloud import Cloud, body_of, wait_until

SUPERVISOR = "jordan.lee@acmeair.example"
ROSTER = ["alex.brown@acmeair.example", "casey.diaz@acmeair.example", "sam.evans@acmeair.example"]
STATUS = "https://status.acmeair.example/"
OVERRIDES = {
    "sla": {"rep_response_seconds": 600, "supervisor_response_seconds": 600},
    "follow_up": {"delay_seconds": 0, "window_seconds": 30},
    "incidents": {"threshold": 5, "window_minutes": 15, "digest_minutes": 15},
}


def _complain(cloud: Cloud, n: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        cloud.emulator.add_user(f"flyer{i}", name=f"Flyer{i} Smith", followers=120 + i)
        text = f"@acmeair your app is down again and I can't check in for flight AC{100 + i}. Useless."
        ids.append(f"case-{cloud.emulator.add_post(f'flyer{i}', text).id}")
    return ids


def _acks(cloud: Cloud) -> list:
    return cloud.emulator.posts_created(by="acmeair")


@pytest.mark.parametrize("playbook_overrides", [OVERRIDES])
def test_a_storm_on_one_topic_becomes_one_incident_with_one_digest_and_status_acks(cloud):
    before = _complain(cloud, 4)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 4, what="the acks before the storm")
    assert not any(STATUS in ack.text for ack in _acks(cloud))  # below the threshold: usual acks
    assert cloud.emails_to(SUPERVISOR) == []

    during = _complain(cloud, 6, start=4)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 10, timeout=40, what="the storm's acks")
    [opened] = wait_until(lambda: cloud.emails_to(SUPERVISOR), what="the incident digest")
    assert opened["Subject"].startswith("[Incident] outage") and "incident opened" in opened["Subject"]

    # 16 minutes on, the storm goes on: a VIP and two more join; one more digest (a new interval).
    cloud.emulator.clock.advance(16 * 60)
    cloud.emulator.add_user("vip", name="Vera Important", followers=250_000, verified=True)
    vip_post = cloud.emulator.add_post(
        "vip", "@acmeair app down, can't check in, 250k people will hear of this"
    )
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 11, timeout=40, what="the VIP's ack")
    during += [f"case-{vip_post.id}", *_complain(cloud, 2, start=10)]
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 13, timeout=40, what="every ack")

    cases = {case_id: cloud.store.cases.get(case_id) for case_id in before + during}
    assert all(c.assignee_email for c in cases.values())  # every case has its rep
    incident_ids = {c.incident_id for c in cases.values() if c.incident_id}
    assert len(incident_ids) == 1, incident_ids  # one incident, not one per case
    assert all(cases[case_id].incident_id for case_id in during)
    assert not any(cases[case_id].incident_id for case_id in before)
    by_tweet = {ack.in_reply_to_tweet_id: ack for ack in _acks(cloud)}
    for case_id in during:  # incident acks point to the one status post
        assert STATUS in by_tweet[cases[case_id].root_tweet_id].text
    assert len({ack.text for ack in _acks(cloud)}) == 13  # never duplicate text
    # Before the storm every case went to the one generalist (no rep's topic is in the post); the
    # incident's cases go to the whole roster by load, so the topic reps take them until even.
    assert {cases[case_id].assignee_email for case_id in before} == {ROSTER[2]}
    loads = [[c.assignee_email for c in cases.values()].count(rep) for rep in ROSTER]
    assert max(loads) - min(loads) <= 2, loads
    assert {cases[case_id].assignee_email for case_id in during} >= set(ROSTER[:2])

    # One digest per interval however many cases joined (9 here): the first case to join in a new
    # interval sends it, with what the incident holds then (7 cases: the 6, then the VIP).
    digests = wait_until(lambda: len(cloud.emails_to(SUPERVISOR)) == 2 and cloud.emails_to(SUPERVISOR))
    update = digests[1]
    assert update["Subject"] == "[Incident] outage: 7 cases - update"
    text = body_of(update, "plain")
    assert "Cases in the incident: 7" in text and STATUS in text
    assert "VIPs (1):\n  @vip (250,000 followers, verified, P" in text
    assert text.index("Top posts by reach:\n  @vip") > 0  # the widest reach first
    # Every case's rep email went out (the rep branch runs beside the ack).
    wait_until(lambda: sum(len(cloud.emails_to(rep)) for rep in ROSTER) == 13, what="every rep email")
    assert cloud.emulator.violations == []


@pytest.mark.parametrize("playbook_overrides", [OVERRIDES])
def test_in_an_incident_a_complaint_that_needs_the_customers_details_keeps_its_dm_invite(cloud):
    """ "The app is down and you charged me twice": the status post will not refund them."""
    _complain(cloud, 6)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 6, timeout=40, what="the storm's acks")
    cloud.emulator.add_user("payer", name="Pat Payer", followers=90)
    charged = cloud.emulator.add_post(
        "payer", "@acmeair your app is down and you charged my card twice for AC7"
    )
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 7, timeout=40, what="the payer's ack")
    ack = next(a for a in _acks(cloud) if a.in_reply_to_tweet_id == charged.id)
    assert cloud.store.cases.get(f"case-{charged.id}").incident_id  # it counts towards the incident
    assert STATUS not in ack.text and ack.direct_message_deep_link  # but gets its DM invite
    assert cloud.emulator.violations == []


BUDGET = {
    **OVERRIDES,
    "incidents": {"threshold": 50, "post_budget_per_15_minutes": 4, "urgent_reserve": 2},
}


@pytest.mark.parametrize("playbook_overrides", [BUDGET])
def test_acks_stay_within_our_post_budget_urgent_cases_first_and_every_case_reaches_a_rep(cloud):
    """With 4 acks per 15 minutes, 2 of them reserved for priority 1-2: of six ordinary complaints
    two are acknowledged and the rest wait for the next window, while a VIP still is; every case's
    rep is emailed at once."""
    ordinary = _complain(cloud, 6)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 2, what="the ordinary cases' share")
    cloud.emulator.add_user("vip", name="Vera Important", followers=250_000, verified=True)
    vip = f"case-{cloud.emulator.add_post('vip', '@acmeair app down, cannot check in, fix it now').id}"
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 3, what="the VIP's ack")
    assert cloud.store.cases.get(vip).priority <= 2
    assert cloud.store.cases.get(vip).first_response_at is not None  # the VIP jumped the queue
    wait_until(lambda: sum(len(cloud.emails_to(rep)) for rep in ROSTER) == 7, what="every rep email")
    # The rest are queued, not failed: still waiting for a slot, with no ack error recorded.
    waiting = [c for c in map(cloud.store.cases.get, ordinary) if c.first_response_at is None]
    assert len(waiting) == 4 and all(c.ack_error is None for c in waiting)
    assert all(cloud.execution_arn(c.case_id) for c in waiting)
    assert cloud.emulator.violations == []


@pytest.mark.parametrize(
    "playbook_overrides", [{**OVERRIDES, "incidents": {"threshold": 2, "window_minutes": 15}}]
)
def test_a_digest_ses_rejected_is_sent_by_the_retry_once(cloud):
    from moto.ses.exceptions import MessageRejectedError
    from moto.ses.models import SESBackend

    _complain(cloud, 1)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 1, what="the first ack")

    def reject(*args, **kwargs):
        raise MessageRejectedError("rejected (injected)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SESBackend, "send_raw_email", reject)
        [case_id] = _complain(cloud, 1, start=1)
        cloud.poll()  # its Assign opens the incident; the digest is refused
        case = wait_until(
            lambda: (c := cloud.store.cases.get(case_id)) and c.incident_id and c, what="the incident case"
        )
        time.sleep(0.5)  # the refused attempt releases its claim
    assert cloud.emails_to(SUPERVISOR) == []
    for _ in range(2):  # Step Functions' retry, then a duplicate invocation
        result, errored = cloud.invoke("WorkflowTasksFunction", {"task": "assign", "case_id": case_id})
        assert not errored and result["incident_id"] == case.incident_id
    [digest] = cloud.emails_to(SUPERVISOR)
    assert "incident opened" in digest["Subject"]


def _loads(cloud: Cloud) -> list[int]:
    loads = cloud.store.incidents.rep_loads(ROSTER)
    return [loads[rep] for rep in ROSTER]


@pytest.mark.parametrize(
    "playbook_overrides", [{**OVERRIDES, "incidents": {"threshold": 2, "window_minutes": 15}}]
)
def test_a_retried_assign_counts_the_complaint_once(cloud, monkeypatch):
    """A crash between counting the complaint and assigning the case (a storage error here), then
    Step Functions' retry: one complaint stays one, so it opens no incident at a threshold of 2, and
    the rep's load counts the case once."""
    from turnaround.dal.cases import CaseRepository
    from turnaround.exceptions import StorageError

    assigned = CaseRepository.assigned
    failures: list[str] = []

    def crash_once(self, *args, **kwargs):
        if not failures:
            failures.append("crashed")
            raise StorageError("crash between counting and assigning (injected)")
        return assigned(self, *args, **kwargs)

    monkeypatch.setattr(CaseRepository, "assigned", crash_once)
    [case_id] = _complain(cloud, 1)
    cloud.poll()
    case = wait_until(
        lambda: (c := cloud.store.cases.get(case_id)) and c.assigned_at and c, timeout=40, what="the retry"
    )
    assert failures == ["crashed"]  # the first attempt counted, then failed; the retry assigned it
    wait_until(lambda: len(_acks(cloud)) == 1, timeout=40, what="the ack")
    assert case.incident_id is None and cloud.emails_to(SUPERVISOR) == []
    assert sum(_loads(cloud)) == 1 and _loads(cloud)[ROSTER.index(case.assignee_email)] == 1


@pytest.mark.parametrize("playbook_overrides", [OVERRIDES])
def test_a_reassigned_case_moves_its_load_and_closing_it_frees_it(cloud):
    [case_id] = _complain(cloud, 1)
    cloud.poll()
    wait_until(lambda: cloud.emails_to(ROSTER[2]), what="the generalist's email")
    assert _loads(cloud) == [0, 0, 1]
    assert (
        cloud.decide(ROSTER[2], "reassign", reassign_to=ROSTER[1], note="Casey knows the app")["statusCode"]
        == 200
    )
    wait_until(lambda: cloud.emails_to(ROSTER[1]), what="the new rep's email")
    assert wait_until(lambda: _loads(cloud) == [0, 1, 0] and _loads(cloud), what="the load to move")
    assert cloud.decide(ROSTER[1], "resolved", note="Fixed")["statusCode"] == 200
    wait_until(lambda: cloud.store.cases.get(case_id).status == "CLOSED", timeout=40, what="the close")
    assert _loads(cloud) == [0, 0, 0]


QUIET = {
    **OVERRIDES,
    "incidents": {"threshold": 3, "window_minutes": 15, "digest_minutes": 15, "quiet_minutes": 60},
}


def _sweep(cloud: Cloud) -> tuple[dict, bool]:
    """The IncidentDigestFunction's schedule fires."""
    [(result, errored)] = cloud.deployed.fire("IncidentDigestFunction")
    return result, errored


@pytest.mark.parametrize("playbook_overrides", [QUIET])
def test_the_schedule_sends_a_digest_per_interval_in_a_quiet_spell_and_one_closing_summary(cloud):
    from moto.ses.exceptions import MessageRejectedError
    from moto.ses.models import SESBackend

    complaints = _complain(cloud, 5)
    cloud.poll()
    [opened] = wait_until(lambda: cloud.emails_to(SUPERVISOR), what="the opening digest")
    assert "incident opened" in opened["Subject"]
    wait_until(lambda: len(_acks(cloud)) == 5, timeout=40, what="the acks")
    # The third to be counted opens the incident (the workflows run side by side: any three).
    cases = [c for c in complaints if cloud.store.cases.get(c).incident_id]
    assert len(cases) == 3
    assert _sweep(cloud) == ({"incidents": {"acmeair": {"outage": "no digest due"}}}, False)

    # 16 minutes on, no case has joined: the schedule sends the interval's digest, once.
    cloud.emulator.clock.advance(16 * 60)
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "digest"}
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "no digest due"}
    update = cloud.emails_to(SUPERVISOR)[-1]
    assert update["Subject"] == "[Incident] outage: 3 cases - update"
    text = body_of(update, "plain")
    assert "Joined 3, acknowledged 3, resolved 0, still open 3" in text, text
    assert "Still open by rep: " in text and "comes again every 15 minutes while the incident lasts" in text

    # One case resolved; the next interval's digest is refused by SES, then sent by the next sweep.
    rep = cloud.store.cases.get(cases[0]).assignee_email
    [link] = wait_until(
        lambda: [
            action_links(m)["resolved"]
            for m in cloud.emails_to(rep)
            if m["X-Turnaround-Case"] == cases[0] and "resolved" in action_links(m)
        ],
        what="the case's email",
    )
    assert cloud.click(link, method="POST", note="Checked in by phone")["statusCode"] == 200
    wait_until(lambda: cloud.store.cases.get(cases[0]).resolved_at, what="the resolution")
    cloud.emulator.clock.advance(15 * 60)

    def reject(*args, **kwargs):
        raise MessageRejectedError("rejected (injected)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SESBackend, "send_raw_email", reject)
        result, errored = _sweep(cloud)
        assert errored and result["errorType"] == "EmailNotSent"
    assert len(cloud.emails_to(SUPERVISOR)) == 2
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "digest"}
    [counts] = [
        line for line in body_of(cloud.emails_to(SUPERVISOR)[-1], "plain").splitlines() if "Joined" in line
    ]
    assert counts == "Joined 3, acknowledged 3, resolved 1, still open 2"

    # An hour without a new case: one closing summary, and the incident is over. The first sweep
    # crashes between sending the summary and marking the incident ended; the next only marks it.
    from turnaround.dal.incidents import IncidentRepository
    from turnaround.exceptions import StorageError

    def crash(*args, **kwargs):
        raise StorageError("crash after the summary (injected)")

    cloud.emulator.clock.advance(61 * 60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(IncidentRepository, "ended", crash)
        result, errored = _sweep(cloud)
        assert errored and result["errorType"] == "StorageError"
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "ended"}
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {}
    summaries = [m for m in cloud.emails_to(SUPERVISOR) if "ended" in m["Subject"]]
    assert [m["Subject"] for m in summaries] == ["[Incident] outage: 3 cases - ended"]
    text = body_of(summaries[0], "plain")
    assert "has ended: no new complaint about it for 60 minutes" in text
    assert "resolved 1, still open 2" in text and "last digest" in text
    assert len(cloud.emails_to(SUPERVISOR)) == 4
    # A complaint on the topic now is an ordinary case: it does not join the ended incident.
    [late] = _complain(cloud, 1, start=5)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 6, timeout=40, what="the late ack")
    late_case = wait_until(lambda: (c := cloud.store.cases.get(late)) and c.assigned_at and c)
    assert late_case.incident_id is None and len(cloud.emails_to(SUPERVISOR)) == 4


@pytest.mark.parametrize("playbook_overrides", [QUIET])
def test_a_new_spike_before_the_schedule_ended_the_quiet_incident_still_gets_its_closing_summary(cloud):
    """The old incident has gone quiet but no sweep has ended it when a new spike on its topic opens
    the next one: the new one carries it, and the next sweep sends its closing summary, once."""
    _complain(cloud, 3)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 3, timeout=40, what="the first spike's acks")
    first = cloud.store.incidents.current("acmeair", "outage")
    assert first is not None and len(cloud.emails_to(SUPERVISOR)) == 1

    cloud.emulator.clock.advance(61 * 60)  # quiet for longer than quiet_minutes; no sweep ran
    _complain(cloud, 3, start=3)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 6, timeout=40, what="the second spike's acks")
    second = cloud.store.incidents.current("acmeair", "outage")
    assert second is not None and second.incident_id != first.incident_id
    assert second.replaces is not None and second.replaces.incident_id == first.incident_id
    assert [m["Subject"] for m in cloud.emails_to(SUPERVISOR) if "ended" in m["Subject"]] == []

    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "no digest due"}
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "no digest due"}
    summaries = [m for m in cloud.emails_to(SUPERVISOR) if "ended" in m["Subject"]]
    assert [m["Subject"] for m in summaries] == ["[Incident] outage: 1 case - ended"]  # the third opened it
    assert summaries[0]["X-Turnaround-Thread"] == first.incident_id
    assert f'Incident {first.incident_id} ("outage") has ended' in body_of(summaries[0], "plain")
    current = cloud.store.incidents.current("acmeair", "outage")
    assert current is not None and current.replaces is None and current.ended_at is None


def _backlash(
    cloud: Cloud, promotion: str, who: str, n: int, *, quoting: bool = False
) -> tuple[str, list[str]]:
    """A promotion of ours and ``n`` customers' price complaints replying to it (every other one
    quoting it instead, if ``quoting``), polled: the incident topic of the post, and the cases."""
    promo = cloud.emulator.add_post("acmeair", promotion)
    cases = []
    for i in range(n):
        cloud.emulator.add_user(f"{who}{i}", name=f"{who.title()}{i} Jones", followers=50 + i)
        text = f"@acmeair fake prices, it was $320 at checkout #{i}. Disgusting and misleading."
        above = quoting and i % 2 == 1
        post = cloud.emulator.add_post(
            f"{who}{i}", text, **({"quote_of": promo.id} if above else {"reply_to": promo.id})
        )
        cases.append(f"case-{post.id}")
    cloud.poll()
    return f"replies-to-{promo.id}", cases


@pytest.mark.parametrize("playbook_overrides", [QUIET])
def test_a_backlash_quoting_our_own_post_joins_its_replies_in_one_incident(cloud):
    """Was: only direct replies counted towards the post's incident; customers who quote-post a
    promotion to complain ("this is a lie" above it) each got a canned ack, a reply storm by quotes."""
    topic, cases = _backlash(cloud, "Fly to Porto from $39 this weekend only!", "quoter", 4, quoting=True)
    wait_until(lambda: cloud.emails_to(SUPERVISOR), what="the opening digest")
    wait_until(lambda: len(_acks(cloud)) == 4, timeout=40, what="the acks")
    stored = [cloud.store.cases.get(c) for c in cases]
    assert {c.topic for c in stored} == {topic}
    assert sum(bool(c.incident_id) for c in stored) == 2  # the threshold's third and the one after it
    assert sum(STATUS in ack.text for ack in _acks(cloud)) == 2
    assert cloud.emulator.violations == []


@pytest.mark.parametrize("playbook_overrides", [QUIET])
def test_a_backlash_under_our_own_post_becomes_an_incident_the_schedule_tends_and_ends(cloud):
    """Complaints in replies to a post of ours (a promotion here) that name no playbook topic: each
    customer has their own case, and past the threshold they are one incident of the thread, with
    status acks and the supervisor's digests, not a canned reply each; the schedule ends it."""
    topic, cases = _backlash(cloud, "Fly to Lisbon from $49 this weekend only!", "fan", 5)
    [opened] = wait_until(lambda: cloud.emails_to(SUPERVISOR), what="the opening digest")
    assert opened["Subject"].startswith(f"[Incident] {topic}") and "incident opened" in opened["Subject"]
    our_post = f"https://x.com/acmeair/status/{topic.removeprefix('replies-to-')}"
    assert f"Its complaints reply to (or quote) our post: {our_post}" in body_of(opened, "plain")
    wait_until(lambda: len(_acks(cloud)) == 5, timeout=40, what="the acks")
    joined = [c for c in cases if cloud.store.cases.get(c).incident_id]
    assert len(joined) == 3  # the threshold's third and those after it
    by_tweet = {ack.in_reply_to_tweet_id: ack for ack in _acks(cloud)}
    assert sum(STATUS in by_tweet[cloud.store.cases.get(c).root_tweet_id].text for c in cases) == 3
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {topic: "no digest due"}

    cloud.emulator.clock.advance(61 * 60)  # an hour without a new case: the closing summary
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {topic: "ended"}
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {}  # and the schedule forgets the thread
    assert [m["Subject"] for m in cloud.emails_to(SUPERVISOR) if "ended" in m["Subject"]] == [
        f"[Incident] {topic}: 3 cases - ended"
    ]
    assert cloud.emulator.violations == []


@pytest.mark.parametrize("playbook_overrides", [QUIET])
def test_the_schedules_digest_lists_the_cases_waiting_on_the_supervisor_with_links_that_work(cloud):
    """On the deployed stack, with each function's role checked call by call: an incident case whose
    rep let the SLA pass waits on the supervisor in the digest (tests/integration/
    test_incident_escalations.py has the whole behaviour), so the schedule's digest reads the
    escalations its links come from, and the supervisor's link opens its confirm page."""
    cases = _complain(cloud, 4)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 4, timeout=40, what="the acks")
    late = next(c for c in reversed(cases) if cloud.store.cases.get(c).incident_id)
    # The rep's SLA passed: NotifySupervisor's invocation (the execution's own wait is left as it is).
    task = {"case_id": late, "task": "notify", "task_token": "supervisor-wait", "role": "supervisor"}
    result, errored = cloud.invoke("WorkflowTasksFunction", {**task, "input_version": 1})
    assert not errored and result["emailed"] is False and result["incident_id"], result
    cloud.emulator.clock.advance(16 * 60)
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "digest"}
    digest = cloud.emails_to(SUPERVISOR)[-1]
    assert digest["Subject"].endswith(", 1 waiting on you"), digest["Subject"]
    link = action_links(digest)["resolved"]
    page = cloud.click(link)
    assert page["statusCode"] == 200 and "Mark as resolved?" in page["body"]


def _end_link(message) -> str:
    [link] = [line.strip() for line in body_of(message, "plain").splitlines() if "/incident?t=" in line]
    return link


@pytest.mark.parametrize("playbook_overrides", [QUIET])
def test_the_supervisor_ends_the_incident_from_the_schedules_digest_and_gets_its_closing_summary(cloud):
    """On the deployed stack, each call checked against its function's role: the schedule's digest
    signs the link, the action page marks the incident ended, the schedule sends the summary."""
    _complain(cloud, 4)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 4, timeout=40, what="the acks")
    cloud.emulator.clock.advance(16 * 60)
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "digest"}
    link = _end_link(cloud.emails_to(SUPERVISOR)[-1])

    page = cloud.click(link)
    assert page["statusCode"] == 200 and "End this incident?" in page["body"], page
    assert "about outage" in page["body"]
    assert cloud.store.incidents.current("acmeair", "outage").ended_at is None  # GET changes nothing
    done = cloud.click(link, method="POST")
    assert done["statusCode"] == 200 and "Incident ended" in done["body"], done
    assert cloud.click(link, method="POST")["statusCode"] == 409  # once
    ended = cloud.store.incidents.current("acmeair", "outage")
    assert ended.ended_at is not None and ended.ended_by == "Jordan Lee" and ended.summary_due
    assert len(cloud.emails_to(SUPERVISOR)) == 2

    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {"outage": "ended"}
    assert _sweep(cloud)[0]["incidents"]["acmeair"] == {}
    [summary] = [m for m in cloud.emails_to(SUPERVISOR) if "ended" in m["Subject"]]
    assert "has ended: Jordan Lee ended it at " in body_of(summary, "plain")
    assert not cloud.store.incidents.current("acmeair", "outage").summary_due
    # A complaint about the outage now is an ordinary case with the ordinary ack.
    [late] = _complain(cloud, 1, start=4)
    cloud.poll()
    wait_until(lambda: len(_acks(cloud)) == 5, timeout=40, what="the late ack")
    assert cloud.store.cases.get(late).incident_id is None
    assert STATUS not in _acks(cloud)[-1].text
