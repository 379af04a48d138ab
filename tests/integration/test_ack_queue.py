"""The ack queue in a storm (playbook `incidents.post_budget_per_15_minutes`): each ack reserves a slot
on its first attempt, priority 1-2 first, first-come within a priority, never more than the budget in
any rolling 15 minutes, and the state machine waits for the slot with one Wait state.

The queue itself on moto's DynamoDB (the transaction that reserves it, as in DynamoDB), then the
whole workflow on the stack deployed from template.yaml: the real ASL on moto's interpreter, X as the
emulator over HTTP, moto's SES; the test moves X's clock, which the functions and the Wait share."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from local_cloud.cloud import action_links
from local_cloud.inbound_mail import reply_to
from local_cloud.moto_fixes import dynamodb_as_in_aws
from tests.cloud import Cloud, body_of, execution, states_entered, wait_until
from turnaround.dal.incidents import PostLane, epoch_ms
from turnaround.dal.repositories import Repositories
from turnaround.logic.workflow.acknowledge import zulu

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
FAR = NOW + timedelta(days=2)


def _lanes(budget: int, reserve: int, *, urgent: bool) -> list[PostLane]:
    """As the ack task builds them (logic/workflow/acknowledge.py)."""
    ordinary = PostLane("ordinary", budget - reserve)
    return [PostLane("urgent", reserve), ordinary] if urgent and reserve else [ordinary]


def _case(store: Repositories, case_id: str) -> str:
    """A case item (the reservation is kept on it), once."""
    store.cases._put_once({"pk": f"CASE#{case_id}", "sk": "CASE"}, "open a bare case")
    return case_id


def _reserve(
    store: Repositories, case_id: str, *, at: datetime = NOW, urgent: bool = False, latest: datetime = FAR
) -> datetime | None:
    return store.incidents.reserve_post_slot(
        "acmeair", _case(store, case_id), now=at, lanes=_lanes(4, 2, urgent=urgent), latest=latest
    )


def _queue(store: Repositories) -> dict:
    return store.incidents.table.get_item(Key={"pk": "POSTS#acmeair", "sk": "QUEUE"})["Item"]


def _most_in_any_15_minutes(times: list[datetime]) -> int:
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t < start + WINDOW) for i, start in enumerate(ordered)), default=0
    )


def test_ordinary_acks_post_their_share_at_once_then_queue_first_come(store):
    """Budget 4, 2 of them reserved for priority 1-2: the ordinary lane holds 2 in any 15 minutes."""
    slots = [_reserve(store, f"case-{i}") for i in range(6)]
    assert slots == [NOW, NOW, NOW + WINDOW, NOW + WINDOW, NOW + 2 * WINDOW, NOW + 2 * WINDOW]
    # A complaint later on queues behind them all, however the race for the table goes.
    assert _reserve(store, "case-later", at=NOW + timedelta(minutes=5)) == NOW + 3 * WINDOW
    # Once the queue has drained, an ack posts at once again.
    assert _reserve(store, "case-calm", at=NOW + timedelta(hours=2)) == NOW + timedelta(hours=2)


def test_a_priority_ack_takes_the_earliest_slot_of_either_lane(store):
    for i in range(6):  # a backlog of ordinary acks until NOW + 30 minutes
        _reserve(store, f"case-{i}")
    vips = [_reserve(store, f"case-vip{i}", at=NOW + timedelta(seconds=10), urgent=True) for i in range(3)]
    # The reserve's two slots at once, the third VIP in the reserve's next 15 minutes: ahead of the
    # ordinary backlog still, whose slots none of them took.
    assert vips == [NOW + timedelta(seconds=10)] * 2 + [NOW + timedelta(seconds=10) + WINDOW]
    assert _reserve(store, "case-6") == NOW + 3 * WINDOW
    # With the ordinary lane idle, a VIP whose reserve is used takes the ordinary lane's slot.
    calm = NOW + timedelta(hours=3)
    assert [_reserve(store, f"case-calm-vip{i}", at=calm, urgent=True) for i in range(3)] == [calm] * 3


def test_a_retried_or_repeated_reservation_gets_the_same_slot_and_takes_no_other(store):
    for i in range(2):
        _reserve(store, f"case-{i}")
    first = _reserve(store, "case-queued")
    again = _reserve(store, "case-queued", at=NOW + timedelta(minutes=1))  # the retry after a crash
    assert first == again == NOW + WINDOW
    assert _queue(store)["ordinary_taken"] == 3
    item = store.cases.table.get_item(Key={"pk": "CASE#case-queued", "sk": "CASE"})["Item"]
    assert datetime.fromisoformat(item["ack_post_at"]) == first


def test_a_queue_longer_than_the_longest_wait_reserves_nothing(store):
    for i in range(2):
        _reserve(store, f"case-{i}")
    assert _reserve(store, "case-late", latest=NOW + timedelta(minutes=10)) is None
    item = store.cases.table.get_item(Key={"pk": "CASE#case-late", "sk": "CASE"})["Item"]
    assert "ack_post_at" not in item and _queue(store)["ordinary_taken"] == 2


def test_no_rolling_15_minutes_ever_hold_more_than_the_budget_and_each_priority_is_first_come(store):
    """300 acks of mixed priority arriving over an hour and a half, budget 10 (3 for priority 1-2)."""
    with dynamodb_as_in_aws():  # (moto's transactions otherwise copy the whole table each time)
        _reserve_at_random(store)


def _reserve_at_random(store: Repositories) -> None:
    rng = random.Random(12)
    at = NOW
    slots: list[datetime] = []
    urgent_slots: list[datetime] = []
    ordinary_slots: list[datetime] = []
    for i in range(300):
        at += timedelta(seconds=rng.uniform(0, 36))
        urgent = rng.random() < 0.15
        backlog = PostLane("ordinary", 7).next_slot(
            [int(ms) for ms in (_queue(store) if i else {}).get("ordinary_slots", [])], epoch_ms(at)
        )
        case_id = _case(store, f"case-{i}")
        slot = store.incidents.reserve_post_slot(
            "acmeair", case_id, now=at, lanes=_lanes(10, 3, urgent=urgent), latest=FAR
        )
        assert slot is not None and epoch_ms(slot) >= epoch_ms(at)
        if urgent:  # never behind the ordinary backlog
            assert epoch_ms(slot) <= backlog
        slots.append(slot)
        (urgent_slots if urgent else ordinary_slots).append(slot)
    assert _most_in_any_15_minutes(slots) == 10  # the budget, used, never exceeded
    assert ordinary_slots == sorted(ordinary_slots) and urgent_slots == sorted(urgent_slots)
    assert max(ordinary_slots) - at > timedelta(hours=2)  # the backlog the priority acks skipped


def test_acks_reserving_at_the_same_moment_each_get_their_own_slot(store):
    ids = [_case(store, f"case-{i}") for i in range(12)]
    slots: dict[str, datetime | None] = {}

    def reserve(case_id: str) -> None:
        slots[case_id] = Repositories(store.incidents.table_name).incidents.reserve_post_slot(
            "acmeair", case_id, now=NOW, lanes=[PostLane("ordinary", 4)], latest=FAR
        )

    with dynamodb_as_in_aws():  # moto serialises writes to an item as DynamoDB does
        threads = [threading.Thread(target=reserve, args=(case_id,)) for case_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(s for s in slots.values() if s) == [NOW] * 4 + [NOW + WINDOW] * 4 + [NOW + 2 * WINDOW] * 4
    assert _queue(store)["ordinary_taken"] == 12


def test_the_lane_is_the_sliding_window_its_share_allows():
    lane = PostLane("ordinary", 2)
    now = epoch_ms(NOW)
    assert lane.next_slot([], now) == now
    assert lane.next_slot([now - 1000], now) == now
    assert lane.next_slot([now - 1000, now + 5000], now) == now - 1000 + 15 * 60 * 1000
    assert lane.next_slot([now - 16 * 60 * 1000, now - 1000], now) == now


# --- the workflow -------------------------------------------------------------------------------------

SAM = "sam.evans@acmeair.example"  # the generalist: these complaints name no rep's topic
BUDGET = {
    "sla": {"rep_response_seconds": 600, "supervisor_response_seconds": 600},
    "follow_up": {"delay_seconds": 0, "window_seconds": 30},
    "incidents": {"threshold": 50, "post_budget_per_15_minutes": 4, "urgent_reserve": 2},
}


def _complain(cloud: Cloud, name: str, text: str, **user: object) -> str:
    cloud.emulator.add_user(name, name=f"{name.title()} Smith", **user)
    return f"case-{cloud.emulator.add_post(name, text).id}"


def _acked(cloud: Cloud) -> list[str]:
    """The cases acknowledged, in the order X received the acks."""
    return [f"case-{p.in_reply_to_tweet_id}" for p in cloud.emulator.posts_created(by="acmeair")]


@pytest.mark.parametrize("playbook_overrides", [BUDGET])
def test_a_storm_queue_posts_vips_first_then_first_come_within_the_budget(cloud):
    """Budget 4 in any 15 minutes, 2 of them for priority 1-2. Five complaints: two acks at once,
    three queued with their slots, waiting on a timer while their rep already has the cases; a VIP
    goes first; a later complaint queues behind the earlier ones; a case the rep settles while it
    waits is never acknowledged. (Under the old fixed windows a queued ack had no slot: it retried
    PostBudgetExhausted every minute or more, in no order, and a 15-minute window could take twice
    the budget.)"""
    start = cloud.emulator.clock.now()
    first = [
        _complain(
            cloud, name, f"@acmeair the app is broken, I can't check in ({name}). Useless.", followers=90
        )
        for name in ("ann", "ben", "cal", "dee", "eve")
    ]
    cloud.poll()
    wait_until(lambda: len(_acked(cloud)) == 2, what="the ordinary lane's share, at once")
    queued = wait_until(
        lambda: (
            len(cs := [c for c in map(cloud.store.cases.get, first) if c and c.first_response_at is None])
            == 3
            and all(c.ack_post_at for c in cs)
            and cs
        ),
        what="three queued acks, each with its slot",
    )
    # First-come: two of the queue in 15 minutes (the lane's share), the third 15 minutes later.
    slots = sorted(c.ack_post_at for c in queued)
    assert slots[0] == slots[1] and WINDOW <= slots[0] - start < WINDOW + timedelta(seconds=5)
    assert slots[2] - slots[0] == WINDOW
    # Every rep's email went out at once: the queue delays only the public ack.
    wait_until(lambda: len(cloud.emails_to(SAM)) == 5, what="every rep email")

    vip = _complain(
        cloud, "vip", "@acmeair app broken, cannot check in, fix it now", followers=250_000, verified=True
    )
    cloud.poll()
    wait_until(lambda: vip in _acked(cloud), what="the VIP's ack, before the queue")
    assert cloud.store.cases.get(vip).priority <= 2

    later = _complain(cloud, "fay", "@acmeair app broken here too, can't check in. Useless.", followers=90)
    cloud.poll()
    assert wait_until(lambda: cloud.store.cases.get(later).ack_post_at, what="its slot") == slots[2]

    # The rep settles a queued case before its slot: it is never acknowledged.
    settled, still_queued = sorted(c.case_id for c in queued if c.ack_post_at == slots[0])
    [email] = [m for m in cloud.emails_to(SAM) if m["X-Turnaround-Case"] == settled]
    resolved = cloud.click(action_links(email)["resolved"], method="POST", note="Checked in at the desk")
    assert resolved["statusCode"] == 200

    # A retried or repeated first attempt gets the same slot and takes none from the queue.
    taken = _queue(cloud.store)["ordinary_taken"]
    for _ in range(2):
        result, errored = cloud.invoke(
            "WorkflowTasksFunction", {"task": "acknowledge", "case_id": still_queued, "input_version": 1}
        )
        assert not errored and result["post_at"] == zulu(slots[0])
    assert _queue(cloud.store)["ordinary_taken"] == taken
    assert still_queued not in _acked(cloud)

    # The Wait ends on the clock the functions share (a Timestamp is rounded up to the second).
    cloud.emulator.clock.set(slots[0] + timedelta(seconds=1))
    wait_until(lambda: still_queued in _acked(cloud), what="the first queued ack at its slot")
    wait_until(lambda: "AckDone" in states_entered(cloud.execution_arn(settled)), what="the settled ack")
    assert settled not in _acked(cloud) and cloud.store.cases.get(settled).first_response_at is None

    cloud.emulator.clock.set(slots[2] + timedelta(seconds=1))
    wait_until(lambda: len(_acked(cloud)) == 6, what="the rest of the queue")
    acked = _acked(cloud)
    assert acked.index(vip) < acked.index(still_queued) < acked.index(later)
    assert set(acked) == {*first, vip, later} - {settled}

    # Never more than the budget in any 15 minutes on X; no ack error; a timer, not retries.
    assert _most_in_any_15_minutes([p.created_at for p in cloud.emulator.posts_created(by="acmeair")]) <= 4
    assert all(cloud.store.cases.get(c).ack_error is None for c in [*first, vip, later])
    history = states_entered(cloud.execution_arn(later))
    assert history.count("WaitForPostSlot") == 1 and history.count("Acknowledge") == 2
    assert execution(cloud.execution_arn(later))["status"] == "RUNNING"  # with its rep
    assert cloud.emulator.violations == []


@pytest.mark.parametrize("playbook_overrides", [BUDGET])
def test_a_queued_ack_is_not_posted_after_the_rep_has_replied_by_email(cloud):
    """In a storm the rep has the case while its ack waits for a slot. A rep who answers the customer
    by email first has given the first response: the canned "sorry, we're on it" must not follow
    it at the slot (a second reply of ours to the same post, and a step backwards)."""
    text = "@acmeair the app is broken, I can't check in ({}). Useless."
    cases = [_complain(cloud, name, text.format(name), followers=90) for name in ("ann", "ben", "cal")]
    cloud.poll()
    wait_until(lambda: len(_acked(cloud)) == 2, what="the ordinary lane's share")
    [queued] = wait_until(
        lambda: (
            [
                c
                for c in map(cloud.store.cases.get, cases)
                if c and c.ack_post_at and c.first_response_at is None
            ]
            or None
        ),
        what="the queued ack's slot",
    )
    [email] = wait_until(
        lambda: [m for m in cloud.emails_to(SAM) if m["X-Turnaround-Case"] == queued.case_id] or None,
        what="the queued case's email",
    )
    assert cloud.deployed.inbound is not None
    answer = "Cal, check-in works again now; sorry for the trouble."
    outcome = cloud.deployed.inbound.deliver(*reply_to(email, answer))
    assert outcome["status"] == "posted", outcome
    [rep_post] = [p for p in cloud.emulator.posts_created(by="acmeair") if answer in p.text]
    assert rep_post.in_reply_to_tweet_id == queued.root_tweet_id

    cloud.emulator.clock.set(queued.ack_post_at + timedelta(seconds=1))
    wait_until(
        lambda: (
            states_entered(cloud.execution_arn(queued.case_id)).count("Acknowledge") == 2
            and "AckDone" in states_entered(cloud.execution_arn(queued.case_id))
        ),
        what="the ack task at its slot",
    )
    ours = [
        p
        for p in cloud.emulator.posts_created(by="acmeair")
        if p.in_reply_to_tweet_id == queued.root_tweet_id
    ]
    assert ours == [rep_post] and cloud.emulator.violations == []
    case = cloud.store.cases.get(queued.case_id)
    assert case.ack_tweet_id is None and case.ack_error is None


@pytest.mark.parametrize("playbook_overrides", [BUDGET])
def test_a_queued_ack_is_not_posted_after_someone_answered_in_xs_app(cloud):
    """In an outage the social team answers some posts by hand in X's app while acks queue. At its
    slot the ack reads our newer posts (Owned Reads) and finds that answer to its customer in the
    complaint's thread: no canned reply follows it. The other queued ack, whose customer nobody
    answered (only someone else in that thread), still goes out."""
    text = "@acmeair the app is broken, I can't check in ({}). Useless."
    names = ("ann", "ben", "cal", "dee")
    cases = [_complain(cloud, name, text.format(name), followers=90) for name in names]
    cloud.poll()
    wait_until(lambda: len(_acked(cloud)) == 2, what="the ordinary lane's share")
    queued = wait_until(
        lambda: (
            qs
            if len(
                qs := [
                    c
                    for c in map(cloud.store.cases.get, cases)
                    if c and c.ack_post_at and c.first_response_at is None
                ]
            )
            == 2
            else None
        ),
        what="two queued acks",
    )
    answered, waiting = queued
    by_hand = cloud.emulator.add_post(
        "acmeair", "So sorry! Check-in is back up now, please try again. ^JO", reply_to=answered.root_tweet_id
    )
    # In the other thread someone else chimed in and was answered by hand: not an answer to its customer.
    cloud.emulator.add_user("zed")
    chimed_in = cloud.emulator.add_post("zed", "@acmeair same here", reply_to=waiting.root_tweet_id)
    cloud.emulator.add_post("acmeair", "Zed, we're on it. ^JO", reply_to=chimed_in.id)
    cloud.emulator.clock.set(max(c.ack_post_at for c in queued) + timedelta(seconds=1))
    wait_until(lambda: waiting.case_id in _acked(cloud), what="the unanswered case's ack")
    wait_until(
        lambda: "AckDone" in states_entered(cloud.execution_arn(answered.case_id)),
        what="the answered case's ack",
    )
    replies = [
        p.id for p in cloud.emulator.world.posts.values() if p.in_reply_to_tweet_id == answered.root_tweet_id
    ]
    assert replies == [by_hand.id] and cloud.emulator.violations == []
    assert cloud.store.cases.get(answered.case_id).ack_tweet_id is None


@pytest.mark.parametrize(
    "playbook_overrides",
    [{**BUDGET, "incidents": {**BUDGET["incidents"], "max_ack_wait_minutes": 10}}],
)
def test_an_ack_the_queue_would_post_too_late_is_not_posted_and_the_rep_is_told(cloud):
    """With at most 10 minutes' wait, the third ordinary ack (its slot 15 minutes on) is not queued."""
    text = "@acmeair the app is broken, I can't check in ({}). Useless."
    cases = [_complain(cloud, name, text.format(name), followers=90) for name in ("ann", "ben", "cal")]
    cloud.poll()
    wait_until(lambda: len(_acked(cloud)) == 2, what="the ordinary lane's share")
    [late] = wait_until(
        lambda: [c for c in map(cloud.store.cases.get, cases) if c and c.ack_error] or None,
        what="the ack recorded as not posted",
    )
    assert late.ack_error.error == "PostBudgetExhausted" and "queue" in late.ack_error.reason
    assert late.ack_post_at is None and _queue(cloud.store)["ordinary_taken"] == 2
    # The rep has the case, and is told the customer heard nothing (in its email or a note after).
    wait_until(
        lambda: any(
            m["X-Turnaround-Case"] == late.case_id and "ack queue was too long" in body_of(m, "plain")
            for m in cloud.emails_to(SAM)
        ),
        what="the rep told",
    )
    assert execution(cloud.execution_arn(late.case_id))["status"] == "RUNNING"


def test_the_wait_timestamp_is_the_slot_rounded_up_to_the_second_in_utc():
    """Step Functions reads `2026-11-23T07:15:01Z`; a slot is never posted before its time."""
    assert zulu(NOW) == "2026-11-23T07:00:00Z"
    assert zulu(NOW + timedelta(milliseconds=1)) == "2026-11-23T07:00:01Z"
    assert zulu(datetime(2026, 11, 23, 8, 0, 0, 500_000, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-11-23T07:00:01Z"
    )
