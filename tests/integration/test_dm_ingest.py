"""DM reads through real tweepy to the emulator: each event billed once, rate limits per handle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BRAND
from turnaround.adapters.x_api import XCredentials
from turnaround.exceptions import XApiUnavailable
from turnaround.logic.ingest.dms import DmIngestor, poll_dm_handles
from turnaround.models.playbook import load_playbook
from turnaround.settings import DmPollerSettings


@pytest.fixture
def ingestor(x_api, store, clock) -> DmIngestor:
    return DmIngestor(handle=BRAND, x=x_api, store=store, playbook=load_playbook(), clock=clock)


def _stored_dm_ids(store) -> set[str]:
    items = store.table.scan()["Items"]
    return {str(i["event_id"]) for i in items if i["sk"] == "DM"}


def test_each_dm_event_is_billed_once_over_the_30_day_window(emulator, ingestor, store, clock):
    """Polled hourly for 31 days, 3 DMs are billed once each, plus the one known event that ends a
    pass, once per UTC day; a page of 100 re-read every day bills each of them 31 times (93)."""
    emulator.add_user("jane")
    dms = []
    for hour in range(31 * 24):
        if hour in (10, 20, 500):
            dms.append(emulator.add_dm("jane", "acmeair", f"message {hour}"))
            clock.advance(1)
        ingestor.poll()
        clock.advance(3600)
    assert _stored_dm_ids(store) == {d.id for d in dms}
    reads = emulator.ledger.units["dm_event_read"]
    assert reads <= 3 + 32 + 3 * 4  # first reads + one stop event a day + the stop pages' overlap
    assert reads < 93 / 2


def test_a_burst_of_dms_is_paged_until_a_known_event(emulator, ingestor, store, clock):
    emulator.add_user("jane")
    first = emulator.add_dm("jane", "acmeair", "hello")
    clock.advance(1)
    ingestor.poll()
    burst = []
    for n in range(40):
        burst.append(emulator.add_dm("jane", "acmeair", f"more {n}"))
        clock.advance(1)
    counts = ingestor.poll()
    assert counts["pages"] == 4  # 1, 4, 20 all new; the page of 100 reaches the known event
    assert _stored_dm_ids(store) == {first.id, *(d.id for d in burst)}
    assert store.checkpoints.get(BRAND).dm_newest_id == burst[-1].id


def test_a_dm_429_parks_only_that_handle_until_the_reset(emulator, ingestor, store, clock):
    emulator.add_user("jane")
    emulator.add_dm("jane", "acmeair", "hello")
    clock.advance(1)
    emulator.inject_fault("dm_events", "rate_limit")
    ingestor.poll()
    parked = store.checkpoints.get(BRAND).dm_rate_limited_until
    assert parked is not None and parked > clock.now()
    calls = emulator.calls["dm_events"]
    ingestor.poll()
    assert emulator.calls["dm_events"] == calls  # no call before the reset
    clock.advance(15 * 60 + 1)
    assert ingestor.poll()["received"] == 1


def test_one_handles_failure_does_not_skip_the_next(emulator, brand, store, clock, monkeypatch):
    emulator.add_user("jane")
    other = emulator.add_user("acmehelp", access_token="200-helptoken", access_token_secret="help-secret")
    emulator.add_dm("jane", "acmehelp", "hi help desk")
    clock.advance(1)

    class Credentials:
        def x_credentials(self, handle: str) -> Any:
            if handle == BRAND:
                return brand.credentials
            return XCredentials.model_validate(
                {
                    **{k: v.get_secret_value() for k, v in brand.credentials},
                    "access_token": other.access_token,
                    "access_token_secret": other.access_token_secret,
                }
            )

    settings = DmPollerSettings(
        TABLE_NAME=store.table_name,
        MONITORED_HANDLES="acmeair,acmehelp",
        X_CREDENTIALS_SECRET_PREFIX="x/",
        X_API_BASE_URL=emulator.base_url,
        X_HTTP_TIMEOUT_SECONDS=1,
    )
    emulator.inject_fault("dm_events", "server_error")  # the first handle's read fails
    with pytest.raises(XApiUnavailable):
        poll_dm_handles(settings, store=store, credentials=Credentials(), playbook=load_playbook())  # type: ignore[arg-type]
    assert store.checkpoints.get("acmehelp").dm_newest_id is not None  # the second handle still ran


def _complaints(emulator, store, clock, x_api, *texts: str) -> list[str]:
    """Open one case per text for jane, as the mention poller does."""
    from turnaround.logic.ingest.mentions import MentionIngestor

    emulator.add_user("jane")
    posts = [emulator.add_post("jane", text) for text in texts]
    clock.advance(1)
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    return [f"case-{post.id}" for post in posts]


@pytest.mark.parametrize(
    "stop",
    [
        "Please stop messaging me, just send the money.",
        "please don\u2019t contact me again, just send the money",  # a phone's curly apostrophe
        "Lasst mich in Ruhe und überweist einfach das Geld.",
        "Déjenme en paz, solo devuelvan el dinero.",
    ],
)
def test_stop_by_dm_opts_out_every_case_of_the_customer(emulator, ingestor, store, clock, x_api, stop):
    """Two complaints on one day, one already resolved and awaiting her follow-up: "please stop
    messaging me" (as she types it, in her language) covers both, though she has no case the DM
    could be threaded into by id."""
    bag, refund = _complaints(
        emulator,
        store,
        clock,
        x_api,
        "@acmeair my bag never arrived in Denver, three days now",
        "@acmeair and you charged my card twice for the same ticket",
    )
    store.cases.resolved(bag, at=clock.now(), note="bag delivered")
    store.cases.await_follow_up(bag, task_token="token-1")
    emulator.add_dm("jane", "acmeair", stop)
    clock.advance(1)
    ingestor.poll()
    assert store.cases.get(bag).opted_out and store.cases.get(refund).opted_out
    assert emulator.dms_sent(by="acmeair") == []  # and no confirmation DM to someone who said stop


def test_an_answer_to_our_follow_up_dm_joins_the_case_that_asked(emulator, ingestor, store, clock, x_api):
    [bag] = _complaints(
        emulator, store, clock, x_api, "@acmeair my bag never arrived in Denver, three days now"
    )
    store.cases.resolved(bag, at=clock.now(), note="bag delivered")
    store.cases.await_follow_up(bag, task_token="token-1")
    answer = emulator.add_dm("jane", "acmeair", "It arrived yesterday, all good now. Thanks Alex!")
    clock.advance(1)
    assert ingestor.poll()["threaded"] == 1
    assert [dm.event_id for dm in store.dms.for_case(bag)] == [answer.id]  # the rep sees it on the case
    assert emulator.dms_sent(by="acmeair") == []  # no "your case is with..." after it was settled


def test_the_confirmation_dm_waits_for_the_case_to_have_a_rep_and_names_them(
    emulator, ingestor, store, clock, x_api
):
    """A DM before the workflow assigned the case gets no confirmation yet (it would name a guess);
    the first pass after assignment sends it, naming the rep the case went to, once."""
    [bag] = _complaints(
        emulator, store, clock, x_api, "@acmeair my bag never arrived in Denver, three days now. Furious."
    )
    assert store.cases.get(bag).route == "offline" and store.cases.get(bag).assignee_email is None
    emulator.add_dm("jane", "acmeair", "Hi, here are my details: tag AA123456")
    clock.advance(1)
    ingestor.poll()
    ingestor.poll()
    assert emulator.dms_sent(by="acmeair") == [] and store.checkpoints.get(BRAND).dm_confirms_pending == [bag]
    store.cases.assign(bag, "casey.diaz@acmeair.example", route="offline")
    clock.advance(60)
    assert ingestor.poll()["confirmations"] == 1
    [confirmation] = emulator.dms_sent(by="acmeair")
    assert "Casey Diaz" in confirmation.text
    clock.advance(60)
    ingestor.poll()
    assert (
        len(emulator.dms_sent(by="acmeair")) == 1 and store.checkpoints.get(BRAND).dm_confirms_pending == []
    )


def test_a_confirmation_dm_x_refuses_for_good_is_recorded_not_left_in_doubt(
    emulator, ingestor, store, clock, x_api
):
    """She DMed us, then deactivated her account: X refuses our confirmation (400, not a valid
    recipient). The refusal is recorded; the next pass neither retries it nor reads a DM in doubt
    (which would page ops over a DM that never went out), and the case goes on."""
    [bag] = _complaints(
        emulator, store, clock, x_api, "@acmeair my bag never arrived in Denver, three days now. Furious."
    )
    emulator.add_dm("jane", "acmeair", "Hi, here are my details: tag AA123456")
    clock.advance(1)
    ingestor.poll()  # reads her DM; the confirmation waits for the case's rep
    del emulator.world.users[emulator.world.user_by_name("jane").id]
    store.cases.assign(bag, "casey.diaz@acmeair.example", route="offline")
    clock.advance(60)
    ingestor.poll()
    ingestor.poll()
    assert emulator.dms_sent(by="acmeair") == []
    assert store.outbox.earlier(f"{bag}#dm_confirm").state == "DONE"
    assert store.cases.get(bag).dm_refused and store.cases.get(bag).status == "OPEN"
