"""Mention ingest through real HTTP to the emulator (real tweepy) against moto's DynamoDB."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from local_cloud.moto_fixes import dynamodb_as_in_aws
from tests.conftest import BRAND, BRAND_ID
from tests.helpers import x_only_workflow
from turnaround.adapters.x_api import XApi
from turnaround.dal.cases import ThreadCases
from turnaround.dal.mentions import MentionRepository
from turnaround.dal.repositories import Repositories
from turnaround.dal.review_queue import ReviewQueue
from turnaround.exceptions import MalformedXResponse, StorageError, XApiUnavailable, XCreditsExhausted
from turnaround.logic.ingest.mentions import MentionIngestor, _Pass
from turnaround.models.mention import Mention
from x_emulator import XApiEmulator


def _ingestor(x_api: XApi, store: Repositories, clock: Any, max_results: int = 100) -> MentionIngestor:
    return MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock, max_results=max_results)


def _stored_mentions(table_name: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(table_name)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items += [i for i in page["Items"] if i["sk"] == "MENTION"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _cases(table_name: str) -> list[dict[str, Any]]:
    return [
        i
        for i in boto3.resource("dynamodb").Table(table_name).scan()["Items"]
        if i["sk"] == "CASE" and i["pk"].startswith("CASE#")
    ]


@pytest.fixture
def customers(emulator: XApiEmulator) -> None:
    emulator.add_user("jane", followers=150_000, verified=True)
    emulator.add_user("bob", followers=40)


def _seed(
    emulator: XApiEmulator, count: int, author: str = "bob", text: str = "@acmeair question {n}?"
) -> list:
    return [emulator.add_post(author, text.replace("{n}", str(n))) for n in range(count)]


def test_pages_through_every_mention_and_stores_each_once(
    emulator, x_api, store, table_name, clock, customers
):
    posts = _seed(emulator, 250)
    clock.advance(1)

    result = _ingestor(x_api, store, clock).poll()

    assert (result.pages, result.fetched, result.stored, result.complete) == (3, 250, 250, True)
    assert sorted(i["tweet_id"] for i in _stored_mentions(table_name)) == sorted(p.id for p in posts)
    assert store.checkpoints.get(BRAND).since_id == posts[-1].id


def test_next_poll_reads_only_what_is_newer_than_since_id(
    emulator, x_api, store, table_name, clock, customers
):
    _seed(emulator, 7)
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    again = _ingestor(x_api, store, clock).poll()
    assert (again.fetched, again.stored) == (0, 0)

    newer = _seed(emulator, 3, text="@acmeair follow-up {n}?")
    clock.advance(1)
    third = _ingestor(x_api, store, clock).poll()

    assert (third.fetched, third.stored, third.duplicates) == (3, 3, 0)
    assert store.checkpoints.get(BRAND).since_id == newer[-1].id
    assert len(_stored_mentions(table_name)) == 10


def test_more_than_800_between_polls_stores_the_reachable_800(
    emulator, x_api, store, table_name, clock, customers
):
    posts = _seed(emulator, 850)
    clock.advance(1)
    result = _ingestor(x_api, store, clock).poll()
    assert result.stored == 800 and result.pages == 8
    stored = {i["tweet_id"] for i in _stored_mentions(table_name)}
    assert stored == {p.id for p in posts[50:]}


def test_429_mid_pass_stores_what_was_read_then_resumes_the_gap(
    emulator, x_api, store, table_name, clock, customers
):
    posts = _seed(emulator, 230)
    clock.advance(1)
    emulator.inject_fault("mentions", "rate_limit", skip=1)  # page 2 answers 429

    first = _ingestor(x_api, store, clock).poll()

    assert (first.complete, first.stored, first.pages) == (False, 100, 1)
    checkpoint = store.checkpoints.get(BRAND)
    assert checkpoint.since_id is None  # not advanced: older mentions are still missing
    assert checkpoint.pending_newest_id == posts[-1].id and checkpoint.resume_until_id == posts[130].id

    calls = emulator.calls["mentions"]
    skipped = _ingestor(x_api, store, clock).poll()  # before the reset: no call at all
    assert skipped.complete is False and emulator.calls["mentions"] == calls

    late = _seed(emulator, 5, text="@acmeair arrived during the outage {n}?")
    clock.advance(15 * 60 + 1)
    resumed = _ingestor(x_api, store, clock).poll()

    assert (resumed.complete, resumed.stored, resumed.duplicates) == (True, 130, 0)
    assert store.checkpoints.get(BRAND).since_id == posts[-1].id
    final = _ingestor(x_api, store, clock).poll()  # the mentions that came during the gap are next
    assert final.stored == 5 and store.checkpoints.get(BRAND).since_id == late[-1].id
    stored = [i["tweet_id"] for i in _stored_mentions(table_name)]
    assert len(stored) == len(set(stored)) == 235


def test_exhausted_window_stops_before_the_429(emulator, x_api, store, clock, customers):
    _seed(emulator, 30)
    clock.advance(1)
    emulator.rate_limits["mentions"] = 2
    result = _ingestor(x_api, store, clock, max_results=10).poll()
    assert (result.pages, result.stored, result.complete) == (2, 20, False)
    assert emulator.refusals == []  # we stopped on x-rate-limit-remaining: 0, never hit the 429
    assert result.rate_limited_until is not None


class CrashingMentions(MentionRepository):
    """A Lambda that dies after N durable writes (timeout, OOM): nothing after them happens."""

    remaining = 0

    def record(self, mention, **kwargs):  # type: ignore[no-untyped-def]
        if self.remaining == 0:
            raise SystemExit("killed")
        self.remaining -= 1
        return super().record(mention, **kwargs)


class CrashAfter(Repositories):
    def __init__(self, table_name: str, writes: int):
        super().__init__(table_name)
        self.mentions = CrashingMentions(self.ref, cases=self.cases)
        self.mentions.remaining = writes


def test_crash_after_n_writes_then_rerun_stores_each_once(
    emulator, x_api, store, table_name, clock, customers
):
    posts = _seed(emulator, 120)
    clock.advance(1)
    with pytest.raises(SystemExit):
        _ingestor(x_api, CrashAfter(table_name, writes=57), clock).poll()
    assert len(_stored_mentions(table_name)) == 57 and store.checkpoints.get(BRAND).since_id is None

    rerun = _ingestor(x_api, store, clock).poll()

    assert (rerun.stored, rerun.duplicates) == (63, 57)
    stored = [i["tweet_id"] for i in _stored_mentions(table_name)]
    assert sorted(stored) == sorted(p.id for p in posts)
    assert store.checkpoints.get(BRAND).since_id == posts[-1].id


def test_two_pollers_at_once_store_each_mention_and_case_once(
    emulator, x_api, store, table_name, clock, customers
):
    """Poller B runs a whole pass while poller A is between reading and writing."""
    root = emulator.add_post("jane", "@acmeair lost my luggage, medication inside. Furious.")
    for n in range(4):
        emulator.add_post("bob", f"@acmeair @jane same thing happened to me {n}", reply_to=root.id)
    _seed(emulator, 40)
    clock.advance(1)
    poller_b = _ingestor(x_api, store, clock)

    class InterleavedX(XApi):
        def mentions_page(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            page = super().mentions_page(*args, **kwargs)
            poller_b.poll()  # B reads, writes and completes its pass in between
            return page

    poller_a = _ingestor(InterleavedX(client=x_api.client), store, clock)
    a = poller_a.poll()

    assert a.duplicates == 45 and a.stored == 0
    stored = [i["tweet_id"] for i in _stored_mentions(table_name)]
    assert len(stored) == len(set(stored)) == 45
    assert len(_cases(table_name)) == 1


def test_own_posts_and_retweets_are_skipped(emulator, x_api, store, table_name, clock, customers):
    complaint = emulator.add_post("jane", "@acmeair my flight was cancelled and nobody tells me why")
    emulator.add_post("acmeair", "@acmeair team: new lounge opens Monday")
    emulator.add_post("bob", retweet_of=complaint.id)
    clock.advance(1)
    result = _ingestor(x_api, store, clock).poll()
    assert (result.fetched, result.stored, result.skipped_own, result.skipped_retweets) == (3, 1, 1, 1)
    assert [i["tweet_id"] for i in _stored_mentions(table_name)] == [complaint.id]


def test_complaint_opens_a_case_and_replies_in_its_thread_attach(
    emulator, x_api, store, table_name, clock, customers
):
    complaint = emulator.add_post("jane", "@acmeair you charged my card TWICE and nobody answers. Theft.")
    reply = emulator.add_post("jane", "@acmeair still waiting, 2 hours now", reply_to=complaint.id)
    praise = emulator.add_post("bob", "@acmeair great crew today, thank you!")
    clock.advance(1)

    result = _ingestor(x_api, store, clock).poll()

    assert (result.cases_opened, result.attached_to_case) == (1, 1)
    case = store.cases.get(f"case-{complaint.id}")
    assert case is not None and case.status == "OPEN" and case.mention_count == 2
    assert case.customer_id == complaint.author_id and case.priority == 1  # charged + 150k + verified
    assert store.mentions.get(reply.id).case_id == case.case_id
    assert store.mentions.get(praise.id).case_id is None
    assert store.cases.find_open_for_customer(complaint.author_id).case_id == case.case_id
    assert {m.tweet_id for m in store.mentions.for_case(case.case_id)} == {complaint.id, reply.id}

    later = emulator.add_post("jane", "@acmeair any news??", reply_to=complaint.id)
    clock.advance(1)
    assert _ingestor(x_api, store, clock).poll().attached_to_case == 1
    assert store.mentions.get(later.id).case_id == case.case_id


def test_a_new_stacks_first_pass_gives_a_person_the_old_complaints_not_a_canned_ack_each(
    emulator, x_api, store, table_name, clock, customers
):
    """The first pass reads up to 800 mentions, weeks of them. Complaints older than a day go to the
    unsure digest (someone may have answered them by hand long ago); today's open cases as usual.
    Once the handle has a checkpoint, a complaint is a complaint however long it took to read."""
    now = clock.now()
    old = emulator.add_post("bob", "@acmeair my bag is lost and nobody answers", at=now - timedelta(days=3))
    today = emulator.add_post(
        "jane", "@acmeair you charged my card TWICE, nobody answers", at=now - timedelta(hours=2)
    )
    clock.advance(1)

    result = _ingestor(x_api, store, clock).poll()

    assert result.cases_opened == 1 and store.cases.get(f"case-{today.id}") is not None
    stored = store.mentions.get(old.id)
    assert stored.case_id is None and stored.triage.category == "unsure"
    assert "older than 24 hours when first read" in stored.triage.reasons[-1]
    assert [item.tweet_id for item in ReviewQueue(store).waiting(BRAND)] == [old.id]

    late = emulator.add_post("bob", "@acmeair my refund never arrived")
    clock.advance(2 * 24 * 3600)  # read two days late (X was down), after the first pass
    assert _ingestor(x_api, store, clock).poll().cases_opened == 1
    assert store.mentions.get(late.id).triage.category == "complaint"


def test_customers_complaining_under_our_own_post_each_get_a_case_of_their_own(
    emulator, x_api, store, table_name, clock, customers
):
    """Was: the first complaint under our outage notice opened the thread's one case and every other
    customer's complaint joined it (no ack, no rep email of theirs, replies by email went to the
    first customer only). Each customer is their own interaction with us."""
    emulator.add_user("cara", followers=900)
    emulator.add_user("dan", followers=12)
    notice = emulator.add_post("acmeair", "Our app is down for some customers; we're working on it.")
    jane = emulator.add_post(
        "jane", "@acmeair 2 hours and still can't check in. Useless.", reply_to=notice.id
    )
    bob = emulator.add_post(
        "bob", "@acmeair app crashed again, can't check in for my flight. Ridiculous.", reply_to=notice.id
    )
    again = emulator.add_post("jane", "@acmeair and the phone line hangs up on me", reply_to=jane.id)
    thanks = emulator.add_post("dan", "@acmeair thanks for the heads up", reply_to=notice.id)
    clock.advance(1)

    result = _ingestor(x_api, store, clock).poll()

    assert (result.stored, result.cases_opened, result.attached_to_case) == (4, 2, 1)
    janes, bobs = f"case-{jane.id}", f"case-{bob.id}"
    assert store.cases.get(janes).customer_id == jane.author_id and store.cases.get(janes).mention_count == 2
    assert store.cases.get(bobs).customer_id == bob.author_id and store.cases.get(bobs).mention_count == 1
    assert store.mentions.get(again.id).case_id == janes and store.mentions.get(thanks.id).case_id is None
    # replies to our post (an incident of their own if many complain: workflow/assign.py); a reply
    # to one of those is in a customer's conversation with us, not under our post
    assert store.mentions.get(jane.id).under_our_post and not store.mentions.get(again.id).under_our_post
    thread = store.cases.thread_cases(notice.id)
    assert thread.starter is None  # our post started it: nobody's complaint is a pile-on here
    assert thread.cases == {jane.author_id: janes, bob.author_id: bobs}

    more = emulator.add_post("bob", "@acmeair still nothing", reply_to=notice.id)
    cara = emulator.add_post(
        "cara", "@acmeair same, can't check in and the queue is 200 people", reply_to=jane.id
    )
    clock.advance(1)
    result = _ingestor(x_api, store, clock).poll()
    assert (result.cases_opened, result.attached_to_case) == (1, 1)
    assert store.mentions.get(more.id).case_id == bobs
    assert store.mentions.get(cara.id).case_id == f"case-{cara.id}"  # under Jane's reply: still her own


def test_a_complaint_under_someone_elses_closed_case_opens_a_case_of_its_own(
    emulator, x_api, store, clock, customers
):
    """A pile-on joins the case of the post it piles on while that case is open; once it is closed,
    a complaint there reaches a person in a case of its author's own, and the thread stays Jane's."""
    root = emulator.add_post("jane", "@acmeair you lost my bag and nobody answers")
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    janes = store.cases.get(f"case-{root.id}")
    same = emulator.add_post("bob", "@acmeair @jane same here, terrible", reply_to=root.id)
    clock.advance(1)
    assert _ingestor(x_api, store, clock).poll().attached_to_case == 1
    assert store.mentions.get(same.id).case_id == janes.case_id  # a pile-on: no case, no ack of its own

    store.cases.closed(janes, at=clock.now(), outcome="resolved")
    later = emulator.add_post("bob", "@acmeair @jane and now my refund bounced. Awful.", reply_to=root.id)
    clock.advance(1)
    assert _ingestor(x_api, store, clock).poll().cases_opened == 1
    assert store.mentions.get(later.id).case_id == f"case-{later.id}"
    thread = store.cases.thread_cases(root.id)
    assert thread.starter == janes.case_id and thread.cases[later.author_id] == f"case-{later.id}"


def test_an_edited_complaint_stays_one_case_and_one_interaction(
    emulator, x_api, store, table_name, clock, customers
):
    """X makes each edit a new post with a new id; timelines show the latest version and
    ``edit_history_tweet_ids`` chains them. A customer fixing a typo in their complaint is the same
    interaction: no second case, no second automated reply, the rep sees the new words."""
    first = emulator.add_post("jane", "@acmeair my flihgt to Oslo was canceled and nobdy tells us why")
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    case_id = f"case-{first.id}"
    x_api.reply(first.id, "@jane so sorry, we are on it /AB")  # the ack, to the version we read
    clock.advance(60)
    edited = emulator.edit_post(first.id, "@acmeair my flight to Oslo was canceled and nobody tells us why")
    clock.advance(1)

    result = _ingestor(x_api, store, clock).poll()
    assert (result.stored, result.cases_opened, result.attached_to_case) == (1, 0, 1)
    mention = store.mentions.get(edited.id)
    assert mention.edit_of == first.id and mention.case_id == case_id
    assert [str(c["case_id"]) for c in _cases(table_name)] == [case_id]

    workflow = x_only_workflow(store, x_api, clock=clock)
    # The follow-up would be a second automated reply to the same interaction: it listens instead.
    assert workflow.ask_follow_up(case_id)["asked"] is False
    assert len(emulator.posts_created(by="acmeair")) == 1 and emulator.violations == []


def test_a_complaint_edited_before_the_first_poll_opens_one_case_on_its_latest_version(
    emulator, x_api, store, table_name, clock, customers
):
    first = emulator.add_post("bob", "@acmeair lost my bag in Lisbon")
    clock.advance(30)
    edited = emulator.edit_post(first.id, "@acmeair you lost my bag in Lisbon, tag AC123456")
    clock.advance(1)
    result = _ingestor(x_api, store, clock).poll()
    assert (result.stored, result.cases_opened) == (1, 1)  # the timeline shows only the latest
    assert [str(c["case_id"]) for c in _cases(table_name)] == [f"case-{edited.id}"]


def test_triage_is_stored_with_each_mention(emulator, x_api, store, clock, customers):
    post = emulator.add_post("bob", "@acmeair the wifi on this flight isn't working")
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    mention = store.mentions.get(post.id)
    assert mention is not None
    assert mention.triage.category == "complaint" and mention.triage.severity == "simple"
    assert mention.author.username == "bob" and mention.mentions_handle is True
    item = store.table.get_item(Key={"pk": f"MENTION#{post.id}", "sk": "MENTION"})["Item"]
    assert int(item["expires_at"]) == int((clock.now() + timedelta(days=180)).timestamp())


def test_quote_of_our_post_counts_as_mentioning_us(emulator, x_api, store, clock, customers):
    ours = emulator.add_post("acmeair", "Winter schedule is out")
    quote = emulator.add_post("jane", "cancelled my route, thanks for nothing @acmeair", quote_of=ours.id)
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    assert store.mentions.get(quote.id).quoted_tweet_id == ours.id


def test_malformed_payload_is_a_clear_error_and_checkpoint_stays(
    emulator, x_api, store, table_name, clock, customers
):
    _seed(emulator, 5)
    clock.advance(1)
    emulator.inject_fault("mentions", "malformed")
    with pytest.raises(MalformedXResponse, match="unexpected MentionsPage payload"):
        _ingestor(x_api, store, clock).poll()
    assert store.checkpoints.get(BRAND).since_id is None and _stored_mentions(table_name) == []
    assert _ingestor(x_api, store, clock).poll().stored == 5


def test_error_after_some_pages_keeps_what_was_read_and_raises(
    emulator, x_api, store, table_name, clock, customers
):
    posts = _seed(emulator, 150)
    clock.advance(1)
    emulator.inject_fault("mentions", "server_error", skip=1)
    with pytest.raises(XApiUnavailable):
        _ingestor(x_api, store, clock).poll()
    assert len(_stored_mentions(table_name)) == 100
    checkpoint = store.checkpoints.get(BRAND)
    assert checkpoint.since_id is None and checkpoint.resume_until_id == posts[50].id
    assert _ingestor(x_api, store, clock).poll().stored == 50


def test_credits_exhausted_stops_with_a_domain_error(emulator, x_api, store, clock, customers):
    _seed(emulator, 3)
    clock.advance(1)
    emulator.inject_fault("mentions", "payment_required")
    with pytest.raises(XCreditsExhausted):
        _ingestor(x_api, store, clock).poll()
    assert store.checkpoints.get(BRAND).since_id is None


def test_brand_user_id_is_looked_up_once(emulator, x_api, store, clock, customers):
    _ingestor(x_api, store, clock).poll()
    _ingestor(x_api, store, clock).poll()
    assert emulator.calls["me"] == 1 and store.checkpoints.get(BRAND).user_id == BRAND_ID


def test_storage_failure_is_not_swallowed(emulator, x_api, clock, customers, aws):
    _seed(emulator, 1)
    clock.advance(1)
    missing_table = Repositories("no-such-table")
    with pytest.raises(StorageError, match="ResourceNotFoundException"):
        _ingestor(x_api, missing_table, clock).poll()


def test_a_pass_that_cannot_reach_since_id_records_the_gap_and_alerts(
    emulator, x_api, store, table_name, clock, customers, monkeypatch
):
    """More mentions than X's 800-deep timeline between two polls: the older ones are gone. The
    pass notices (the post at since_id never came back), records the gap and emits the metric."""
    first = _seed(emulator, 5)
    clock.advance(1)
    normal = _ingestor(x_api, store, clock).poll()
    assert normal.beyond_reach is False
    quiet = _ingestor(x_api, store, clock).poll()  # nothing new: since_id itself proves the reach
    assert (quiet.beyond_reach, quiet.fetched, quiet.duplicates) == (False, 0, 0)

    burst = _seed(emulator, 850, text="@acmeair outage {n}")
    clock.advance(1)
    emitted: list[str] = []
    monkeypatch.setattr(
        "turnaround.logic.ingest.mentions.metrics.add_metric", lambda name, **_: emitted.append(name)
    )
    with dynamodb_as_in_aws():  # 850 new cases: moto alone copies the whole table per transaction
        result = _ingestor(x_api, store, clock).poll()

    assert result.beyond_reach is True and result.stored == 800 and "MentionsBeyondReach" in emitted
    item = (
        boto3.resource("dynamodb")
        .Table(table_name)
        .get_item(Key={"pk": f"HANDLE#{BRAND}", "sk": "CHECKPOINT"})["Item"]
    )
    assert item["reach_gaps"] == 1
    assert item["last_reach_gap"]["since_id"] == first[-1].id
    assert item["last_reach_gap"]["oldest_read_id"] == burst[50].id
    assert store.checkpoints.get(BRAND).since_id == burst[-1].id  # the next pass starts after it


def test_polls_again_sooner_while_mentions_outrun_a_page_per_pass(
    emulator, x_api, store, table_name, clock, customers
):
    """1,500 mentions a minute would be past the 800 reach at one poll a minute; passes 15 s apart
    inside the invocation each read about 375, so nothing is lost, within X's 300 calls/15 min."""
    _seed(emulator, 1)
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()

    def arrivals(seconds: float) -> None:  # what arrives while the poller waits
        clock.advance(seconds)
        _seed(emulator, 375, text="@acmeair storm {n} " + str(clock.now().timestamp()))

    arrivals(15)
    ingestor = _ingestor(x_api, store, clock)
    ingestor.sleep = arrivals
    with dynamodb_as_in_aws():  # 1,500 new cases: moto alone copies the whole table per transaction
        result = ingestor.poll_until_caught_up(time_left=lambda: 100.0)

    assert result.passes == 4 and result.stored == 4 * 375 and not result.beyond_reach
    assert result.rate_limit_remaining is not None and result.rate_limit_remaining > 30
    assert len(_stored_mentions(table_name)) == 1 + 4 * 375


def test_no_extra_pass_when_one_page_holds_what_arrived(emulator, x_api, store, clock, customers):
    _seed(emulator, 30)
    clock.advance(1)
    ingestor = _ingestor(x_api, store, clock)
    ingestor.sleep = lambda seconds: pytest.fail("slept although the pass was small")
    assert ingestor.poll_until_caught_up().passes == 1


def test_only_typed_mentions_summon_not_the_automatic_reply_prefix(
    emulator, x_api, store, table_name, clock, customers
):
    ours = emulator.add_post("acmeair", "Winter timetable is live")
    prefix_only = emulator.add_post("jane", "will you fly to Porto?", reply_to=ours.id)
    typed = emulator.add_post("jane", "@acmeair and to Faro?", reply_to=ours.id)
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    stored = {i["tweet_id"]: i for i in _stored_mentions(table_name)}
    assert stored[prefix_only.id]["text"] == "@acmeair will you fly to Porto?"
    assert stored[prefix_only.id]["mentions_handle"] is False  # a reply to it would be refused
    assert stored[typed.id]["mentions_handle"] is True


def test_quotes_of_our_recent_posts_are_ingested_once_and_billed_as_reads(
    emulator, x_api, store, table_name, clock, customers
):
    from turnaround.logic.ingest.quotes import QuoteIngestor

    # X bills a post read once per UTC day: start at noon, so the 16 simulated minutes below never
    # cross midnight (a run started at 23:50 UTC billed the last read again, rightly).
    now = clock.now()
    clock.advance((now.replace(hour=12, minute=0, second=0, microsecond=0) - now).total_seconds() % 86400)
    ours = emulator.add_post("acmeair", "Winter timetable is live")
    quiet = emulator.add_post("acmeair", "Lisbon from December")
    clock.advance(1)
    quotes = QuoteIngestor(handle=BRAND, x=x_api, store=store, clock=clock)
    assert quotes.poll() == 0 and emulator.calls["quote_posts"] == 0  # no quote yet: no quote read

    complaint = emulator.add_post("jane", "cancelled my flight twice, useless", quote_of=ours.id)
    clock.advance(60)
    assert quotes.poll() == 0 and emulator.calls["user_posts"] == 1  # checked a minute ago: not yet
    clock.advance(5 * 60)
    assert quotes.poll() == 1
    stored = {i["tweet_id"]: i for i in _stored_mentions(table_name)}
    assert stored[complaint.id]["mentions_handle"] is True  # a quote summons us: we may reply
    assert stored[complaint.id]["quoted_tweet_id"] == ours.id
    assert _cases(table_name)

    later = emulator.add_post("bob", "same here, refund me", quote_of=ours.id)
    clock.advance(5 * 60)
    assert quotes.poll() == 1 and later.id in {i["tweet_id"] for i in _stored_mentions(table_name)}
    clock.advance(5 * 60)
    assert quotes.poll() == 0
    assert emulator.calls["quote_posts"] == 2  # only when a post's quote count went up
    assert emulator.ledger.units["post_read"] == 2  # each quote billed once ($0.005) in a UTC day
    assert quiet.id in store.checkpoints.get_quote_watch(BRAND).posts


def test_public_follow_up_goes_to_a_post_that_typed_our_handle_not_to_a_prefix_only_reply(
    emulator, x_api, store, table_name, clock, customers
):
    """The follow-up ask replies to the customer's newest post that summons us. Jane's newest reply
    only carries X's automatic @acmeair prefix; replying there would be refused (403) by X."""
    root = emulator.add_post("jane", "@acmeair my bag is lost, I am furious")
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    ack = x_api.reply(root.id, "@jane so sorry, we are on it /AB")
    clock.advance(1)
    typed = emulator.add_post("jane", "@acmeair still nothing", reply_to=ack)
    clock.advance(1)
    emulator.add_post("jane", "ok got it, thanks", reply_to=ack)  # newer, prefix-only
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    case_id = next(str(c["case_id"]) for c in _cases(table_name))

    workflow = x_only_workflow(store, x_api, clock=clock)
    assert workflow.ask_follow_up(case_id) == {"asked": True, "listen": True, "channel": "public"}
    follow_up = emulator.posts_created(by="acmeair")[-1]
    assert follow_up.in_reply_to_tweet_id == typed.id and emulator.violations == []


class _CountedCalls:
    """The DynamoDB calls the store makes, by operation (botocore's before-call event)."""

    def __init__(self, store: Repositories) -> None:
        self.ops: list[str] = []
        # the resource's client, and the low-level one the store's transactions go through
        for client in {id(c): c for c in (store.table.meta.client, store.ref.client)}.values():
            client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.ops.append(model.name)

    def take(self) -> list[str]:
        ops, self.ops = self.ops, []
        return ops


def test_at_most_one_dynamodb_call_per_new_mention_on_the_common_path(
    emulator, x_api, store, clock, customers
):
    """A thread root needs no lookup (nothing older in its thread can be stored outside a gap), a
    reply under a case this pass opened needs none either, and who awaits a follow-up is one read a
    pass. New complaints in different threads share one transaction; a reply waits for the write
    that opened its thread's case, and replies counting on one case go one at a time."""
    from turnaround.logic.workflow.listener import CustomerPostListener
    from turnaround.models.playbook import load_playbook

    listener = CustomerPostListener(store, load_playbook(), _Workflow())  # type: ignore[arg-type]
    ingestor = MentionIngestor(
        handle=BRAND, x=x_api, store=store, clock=clock, on_stored=listener, on_pass=listener.begin_pass
    )
    ingestor.poll()  # the first poll looks the brand up and records its user id
    calls = _CountedCalls(store)
    text = "@acmeair my bag is lost, flight {n}, nobody answers"
    roots = [emulator.add_post("bob", text.format(n=n)) for n in range(5)]
    for n in range(5):
        emulator.add_post("jane", f"@acmeair @bob same here {n}, useless", reply_to=roots[0].id)
    emulator.add_post("jane", "@acmeair lovely crew on my flight today, thank you!")
    clock.advance(1)

    result = ingestor.poll()

    assert (result.stored, result.cases_opened, result.attached_to_case) == (11, 5, 5)
    assert calls.take() == [
        "Query",  # the checkpoint (and when quotes were last checked)
        "TransactWriteItems",  # the five complaints: each case opened with its mention, at once
        "Query",  # who awaits a follow-up: once for the pass, after its first post
        *["TransactWriteItems"] * 5,  # five replies joining the case opened in this pass
        "PutItem",  # the praise: stored, nothing else
        "UpdateItem",  # the checkpoint moves
    ]
    assert ingestor.poll().fetched == 0
    assert calls.take() == ["Query"]  # an idle poll: one read, nothing written


def test_a_batch_holding_a_mention_stored_before_is_undone_and_each_is_stored_once(
    emulator, x_api, store, table_name, clock, customers
):
    """A crashed pass stored one complaint but never moved the checkpoint: the next pass's batch
    fails that mention's condition, DynamoDB writes none of the batch, and each is then recorded
    alone: the others stored and their cases opened once, the stored one a duplicate."""
    posts = [
        emulator.add_post("bob", f"@acmeair my bag is lost, flight {n}, nobody answers") for n in range(6)
    ]
    clock.advance(1)
    page, _ = x_api.mentions_page(BRAND_ID)
    ingestor = _ingestor(x_api, store, clock)
    state = _Pass(tweets=list(page.data), users={u.id: u for u in page.includes.users})
    tweet = next(t for t in page.data if t.id == posts[2].id)
    before = ingestor._mention(tweet, state, BRAND_ID, clock.now())
    assert store.mentions.record(before, open_case=True, retention=timedelta(days=1)).case_opened
    calls = _CountedCalls(store)

    result = ingestor.poll()

    assert (result.stored, result.duplicates, result.cases_opened) == (5, 1, 5)
    assert calls.take().count("TransactWriteItems") == 1 + 6  # the batch, cancelled; then each alone
    assert sorted(i["tweet_id"] for i in _stored_mentions(table_name)) == sorted(p.id for p in posts)
    cases = _cases(table_name)
    assert sorted(c["root_tweet_id"] for c in cases) == sorted(p.id for p in posts)
    assert {int(c["mention_count"]) for c in cases} == {1}


class _Workflow:
    def __init__(self) -> None:
        self.succeeded: list[tuple[str, dict[str, Any]]] = []

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self.succeeded.append((token, output))


def test_posts_after_resolution_attach_to_the_case_closed_or_not(emulator, x_api, store, clock, customers):
    """A reply in a resolved case's thread is recorded on the case and handed to the workflow
    awaiting the follow-up; after close, a thank-you still joins the case (no new case), while a new
    complaint in that thread opens a case of its own, so a person sees it."""
    from turnaround.dal.review_queue import ReviewQueue
    from turnaround.logic.workflow.listener import CustomerPostListener
    from turnaround.models.playbook import load_playbook

    workflow = _Workflow()
    listener = CustomerPostListener(store, load_playbook(), workflow)  # type: ignore[arg-type]

    def poll() -> Any:
        clock.advance(1)
        return MentionIngestor(
            handle=BRAND, x=x_api, store=store, clock=clock, on_stored=listener, on_pass=listener.begin_pass
        ).poll()

    root = emulator.add_post("bob", "@acmeair my order is late, tracking hasn't moved since Monday")
    poll()
    case_id = f"case-{root.id}"
    store.cases.resolved(case_id, at=clock.now(), note="courier re-booked")
    store.cases.await_follow_up(case_id, task_token="token-1")

    thanks = emulator.add_post("bob", "@acmeair it arrived this morning, thank you!", reply_to=root.id)
    assert poll().attached_to_case == 1
    assert store.mentions.get(thanks.id).case_id == case_id
    assert workflow.succeeded and workflow.succeeded[0][0] == "token-1"
    assert workflow.succeeded[0][1]["tweet_id"] == thanks.id and workflow.succeeded[0][1]["in_thread"]

    store.cases.closed(store.cases.get(case_id), at=clock.now(), outcome="resolved_followed_up")
    again = emulator.add_post("bob", "@acmeair thanks again, great service", reply_to=root.id)
    result = poll()
    assert (result.stored, result.cases_opened, result.attached_to_case) == (1, 0, 1)
    closed = store.cases.get(case_id)
    assert closed.status == "CLOSED" and closed.mention_count == 3  # the rep sees both replies
    assert {m.tweet_id for m in store.mentions.for_case(case_id)} == {root.id, thanks.id, again.id}
    assert len(workflow.succeeded) == 1  # nobody awaits a follow-up any more

    unsure = emulator.add_post("bob", "@acmeair is this normal?", reply_to=root.id)
    poll()
    assert store.mentions.get(unsure.id).triage.category == "unsure"
    assert store.mentions.get(unsure.id).case_id == case_id  # on the case, and a person decides
    assert [i.tweet_id for i in ReviewQueue(store).waiting(BRAND)] == [unsure.id]

    complaint = emulator.add_post(
        "bob", "@acmeair and now you charged my card twice for it. Unacceptable!", reply_to=root.id
    )
    assert poll().cases_opened == 1
    new_case = store.mentions.get(complaint.id).case_id
    assert new_case == f"case-{complaint.id}" and store.cases.get(new_case).status == "OPEN"
    assert store.cases.thread_cases(root.id).starter == new_case  # the thread's next posts join it
    assert store.cases.get(case_id).status == "CLOSED" and len(workflow.succeeded) == 1


def test_a_reviewer_opens_a_case_for_an_unsure_post_in_a_closed_thread(
    emulator, x_api, store, clock, customers
):
    """The unsure post joined the closed case; 'open a case' gives it a case of its own (with a
    workflow, so a rep is emailed), not the closed one nobody watches."""
    from turnaround.dal.review_queue import open_case_for

    root = emulator.add_post("bob", "@acmeair my order is late, tracking hasn't moved since Monday")
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    case_id = f"case-{root.id}"
    store.cases.resolved(case_id, at=clock.now(), note=None)
    store.cases.closed(store.cases.get(case_id), at=clock.now(), outcome="resolved_no_follow_up")
    unsure = emulator.add_post("bob", "@acmeair is this normal?", reply_to=root.id)
    clock.advance(1)
    _ingestor(x_api, store, clock).poll()
    mention = store.mentions.get(unsure.id)
    assert mention.triage.category == "unsure" and mention.case_id == case_id

    opened = open_case_for(store, mention, opened_at=clock.now(), by="Sam")

    assert opened == f"case-{unsure.id}" and store.cases.get(opened).status == "OPEN"
    assert store.mentions.get(unsure.id).case_id == opened
    assert store.cases.thread_cases(root.id).starter == opened  # bob's, who started the thread
    assert store.cases.customers_awaiting_follow_up() == set()  # the closed case left the marker


def _read_as_mentions(x_api: XApi, store: Repositories, clock: Any, *tweet_ids: str) -> list[Mention]:
    """The posts as a pass would make them mentions (triage and all), without storing them."""
    page, _ = x_api.mentions_page(BRAND_ID)
    by_id = {t.id: t for t in page.data}
    state = _Pass(tweets=list(page.data), users={u.id: u for u in page.includes.users})
    ingestor = _ingestor(x_api, store, clock)
    return [ingestor._mention(by_id[tweet_id], state, BRAND_ID, clock.now()) for tweet_id in tweet_ids]


def test_a_wrong_assumption_about_a_thread_costs_a_read_never_a_misfiled_post(
    emulator, x_api, store, clock, customers
):
    """Jane's reply stored before her thread's first post (a gap read later) opened her case in the
    thread; the first post, written as if its thread were new, fails her pointer's condition, is
    re-read and joins that case: one customer, one case in a thread."""
    root = emulator.add_post("jane", "@acmeair my bag is lost and nobody answers")
    reply = emulator.add_post("jane", "@acmeair and now charged twice for it, no refund!", reply_to=root.id)
    clock.advance(1)
    first, then = _read_as_mentions(x_api, store, clock, reply.id, root.id)
    assert first.triage.is_complaint and then.triage.is_complaint
    opened = store.mentions.record(first, open_case=True, retention=timedelta(days=1))

    joined = store.mentions.record(
        then, open_case=True, retention=timedelta(days=1), thread=ThreadCases(root.id)
    )

    assert opened.case_opened and joined.stored and not joined.case_opened
    assert joined.case_id == opened.case_id == f"case-{reply.id}"
    assert store.cases.get(opened.case_id).mention_count == 2 and len(_cases(store.table_name)) == 1


def test_a_pile_on_stored_before_the_post_it_piles_on_is_its_authors_own_case(
    emulator, x_api, store, clock, customers
):
    """Bob's reply, read before Jane's first post (a gap), finds no case to pile on and opens his own;
    Jane's post then opens hers, which starts the thread: each customer reaches a person."""
    root = emulator.add_post("jane", "@acmeair my bag is lost and nobody answers")
    reply = emulator.add_post("bob", "@acmeair @jane same, charged twice and no refund!", reply_to=root.id)
    clock.advance(1)
    first, then = _read_as_mentions(x_api, store, clock, reply.id, root.id)
    bobs = store.mentions.record(first, open_case=True, retention=timedelta(days=1))
    janes = store.mentions.record(
        then, open_case=True, retention=timedelta(days=1), thread=ThreadCases(root.id)
    )
    assert bobs.case_opened and janes.case_opened
    thread = store.cases.thread_cases(root.id)
    assert thread.starter == f"case-{root.id}" and thread.cases == {
        reply.author_id: f"case-{reply.id}",
        root.author_id: f"case-{root.id}",
    }


class _SlowBedrock:
    """Bedrock answering in 6 s a post (its timeout with one retry), on the invocation's clock."""

    def __init__(self, seconds_left: list[float]) -> None:
        self.seconds_left, self.calls = seconds_left, 0

    def __call__(self, text: str, lang: str | None = None) -> None:
        self.calls += 1
        self.seconds_left[0] -= 6.0
        return None  # no sound answer: the local model decides, as on a timeout


def test_slow_bedrock_never_keeps_a_pass_from_completing(emulator, x_api, store, clock, customers):
    """40 new mentions with a minute left and a Bedrock at 6 s each would take 4 minutes: once the
    invocation nears its end the local model triages the rest, and the pass completes (its
    checkpoint moves; before, every run re-triaged the same posts and timed out)."""
    posts = _seed(emulator, 40, text="@acmeair my bag {n} is lost and nobody answers")
    seconds_left = [60.0]
    bedrock = _SlowBedrock(seconds_left)
    ingestor = MentionIngestor(
        handle=BRAND, x=x_api, store=store, clock=clock, classifier=bedrock,  # type: ignore[arg-type]
        time_left=lambda: seconds_left[0],
    )  # fmt: skip
    result = ingestor.poll_until_caught_up()
    assert result.complete and result.stored == 40 and result.since_id == posts[-1].id
    assert bedrock.calls == 3  # while more than 45 s were left
    assert store.checkpoints.for_mention_poll(BRAND).since_id == posts[-1].id


def test_a_429_in_the_middle_of_a_pile_on_keeps_it_one_case_not_one_ack_each(
    emulator, x_api, store, table_name, clock, customers
):
    """Jane complains; 120 people reply "same here" under her post. X answers the pass's second page
    with 429, so the pass read only the newest 100 replies and not Jane's post. Written then, each
    reply would find no case to join and open one of its own: 100 cases, 100 acks. They wait for the
    pass that reads the gap, which stores Jane's post first: one case, the replies joined to it."""
    root = emulator.add_post("jane", "@acmeair my bag is lost and nobody answers. Furious.")
    for n in range(120):
        emulator.add_user(f"crowd{n}")
        emulator.add_post(f"crowd{n}", f"@acmeair @jane same here, lost my bag too #{n}", reply_to=root.id)
    clock.advance(1)
    emulator.inject_fault("mentions", "rate_limit", skip=1)  # page 2 answers 429

    first = _ingestor(x_api, store, clock).poll()
    assert (first.complete, first.stored, first.cases_opened) == (False, 0, 0)
    clock.advance(15 * 60 + 1)
    resumed = _ingestor(x_api, store, clock).poll()
    assert resumed.complete and resumed.stored == 121 and resumed.cases_opened == 1
    assert store.checkpoints.get(BRAND).since_id == max(
        (i["tweet_id"] for i in _stored_mentions(table_name)), key=int
    )
    case = store.cases.get(f"case-{root.id}")
    assert case is not None and case.mention_count == 121
