"""Every effect kind (public reply, retweet, DM, email) under a failure at every step of claim → act →
record, made through ``logic/effects.py`` with the real adapters: tweepy over HTTP to the X emulator,
SES and DynamoDB in moto. Each test makes a first attempt that fails, then the retry Step Functions,
Lambda or the next poll would make, and checks what reached X or SES: never lost on a transient
failure, never doubled after a crash, and an at-most-once effect in doubt is not repeated and shows
(the ``EffectsInDoubt`` metric and an error log line naming the outbox key)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend, ses_backends

from tests.conftest import BRAND
from tests.helpers import PAST_X_TIMEOUT, x_only_workflow
from turnaround.adapters.mailer import Mailer, build_message
from turnaround.adapters.x_api import XApi
from turnaround.dal.outbox import OutboxRepository
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import EmailNotSent, StorageError, XApiUnavailable, XRateLimited
from turnaround.logic import effects as effects_module
from turnaround.logic.effects import IN_DOUBT_METRIC, Effects, Once, find_our_dm
from x_emulator import SimulatedClock, XApiEmulator

SENDER = "care@acmeair.example"
KEY = "case-1#effect"


class LambdaKilled(BaseException):
    """The Lambda died (timeout, out of memory) between two lines."""


@dataclass
class Kind:
    """One effect kind: how to make it through Effects, and how many of it reached the outside."""

    name: str
    make: Callable[[], Once]
    made: Callable[[], int]
    at_most_once: bool  # emails and DMs: X and SES would repeat them
    findable: bool  # a retry can look for it (our DMs on X)


@pytest.fixture
def in_doubt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The EffectsInDoubt metric each time it is emitted."""
    emitted: list[str] = []
    add_metric = effects_module.metrics.add_metric

    def recording(name: str, **kwargs: Any) -> None:
        if name == IN_DOUBT_METRIC:
            emitted.append(name)
        add_metric(name=name, **kwargs)

    monkeypatch.setattr(effects_module.metrics, "add_metric", recording)
    return emitted


@pytest.fixture
def world(
    emulator: XApiEmulator, x_api: XApi, store: Repositories, clock: SimulatedClock
) -> Iterator[dict[str, Any]]:
    emulator.add_user("jane", name="Jane Doe")
    post = emulator.add_post("jane", "@acmeair my bag never arrived in Lisbon")
    emulator.add_dm("jane", BRAND, "Bag tag AC123456")  # so X allows our DM
    clock.advance(5)
    boto3.client("ses").verify_domain_identity(Domain="acmeair.example")
    yield {"post": post, "jane": emulator.world.require_user("jane").id}


def _sent_emails() -> list[Any]:
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]


def _kind(name: str, emulator: XApiEmulator, x: XApi, effects: Effects, world: dict[str, Any]) -> Kind:
    mailer = Mailer(client=boto3.client("ses"))
    if name == "public_reply":
        return Kind(
            name,
            lambda: effects.post(
                KEY, lambda: x.reply(world["post"].id, "@jane Sorry, Jane. We're on it /AB")
            ),
            lambda: len(emulator.posts_created(by=BRAND)),
            at_most_once=False,
            findable=False,
        )
    if name == "retweet":

        def retweet() -> str:
            x.retweet(world["post"].id)
            return str(world["post"].id)

        return Kind(name, lambda: effects.post(KEY, retweet), lambda: len(emulator.retweets), False, False)
    if name == "dm":
        text = "Thanks Jane, Alex will look after your bag (ref AB12CD)"
        return Kind(
            name,
            lambda: effects.at_most_once(
                KEY,
                lambda: {"result_id": x.send_dm(world["jane"], text)},
                find_earlier=find_our_dm(x, emulator.world.require_user(BRAND).id, text),
            ),
            lambda: len(emulator.dms_sent(by=BRAND)),
            at_most_once=True,
            findable=True,
        )
    message = build_message(
        sender=SENDER, to=["alex@acmeair.example"], subject="Case", text="t", html="<p>t</p>"
    )
    return Kind(
        name,
        lambda: effects.at_most_once(KEY, lambda: {"result_id": mailer.send(message)}),
        lambda: len(_sent_emails()),
        at_most_once=True,
        findable=False,
    )


KINDS = ["public_reply", "retweet", "dm", "email"]
X_ROUTE = {"public_reply": "create_tweet", "retweet": "retweet", "dm": "create_dm"}


@pytest.fixture
def setup(
    world: dict[str, Any], emulator: XApiEmulator, x_api: XApi, store: Repositories, clock: SimulatedClock
) -> Callable[[str], Kind]:
    return lambda name: _kind(name, emulator, x_api, Effects(store, clock), world)


def _claim(store: Repositories) -> Any:
    return store.outbox._get(f"OUTBOX#{KEY}", "OUTBOX")


def _fail_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, error: BaseException) -> None:
    """``owner.name`` fails on its first call, before doing anything."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            return original(*args, **kwargs)
        raise error

    monkeypatch.setattr(owner, name, failing)


# --- claim fails: nothing was made; the retry makes it ---------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_claim_fails_nothing_is_made_and_the_retry_makes_it_once(kind, setup, store, monkeypatch, in_doubt):
    effect = setup(kind)
    _fail_once(monkeypatch, OutboxRepository, "claim", StorageError("DynamoDB throttled the claim"))
    with pytest.raises(StorageError):
        effect.make()
    assert effect.made() == 0
    assert effect.make().made_now and effect.made() == 1
    assert _claim(store)["state"] == "DONE" and in_doubt == []


# --- act fails transiently (X 429/5xx, SES refused): released, the retry makes it ------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", ["server_error", "rate_limit"])
def test_a_transient_failure_releases_the_claim_and_the_retry_makes_it(
    kind, fault, setup, store, emulator, monkeypatch, in_doubt
):
    effect = setup(kind)
    if kind == "email":
        _fail_once(monkeypatch, SESBackend, "send_raw_email", MessageRejectedError("throttled (injected)"))
        expected: type[Exception] = EmailNotSent
    else:
        emulator.inject_fault(X_ROUTE[kind], fault)
        expected = XApiUnavailable if fault == "server_error" else XRateLimited
    with pytest.raises(expected):
        effect.make()
    assert effect.made() == 0 and _claim(store) is None  # provably not made: the claim is released
    once = effect.make()
    assert once.made_now and effect.made() == 1  # not lost
    assert _claim(store)["state"] == "DONE" and in_doubt == []
    assert not effect.make().made_now and effect.made() == 1  # and a third call repeats nothing


# --- act fails ambiguously: the answer never came ----------------------------------------------------


def _lose_the_answer(
    kind: str, emulator: XApiEmulator, monkeypatch: pytest.MonkeyPatch, *, made: bool
) -> None:
    """The request times out with no status; ``made``: X or SES carried it out before that."""
    if kind == "email":
        timeout = ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com/")
        original = Mailer.send

        def send(mailer: Mailer, message: Any) -> str:
            if made:
                original(mailer, message)
            raise timeout

        monkeypatch.setattr(Mailer, "send", _once(send, original))
    else:
        emulator.inject_fault(
            X_ROUTE[kind], "lost_response" if made else "timeout", delay_seconds=PAST_X_TIMEOUT
        )


def _once(first: Callable[..., Any], then: Callable[..., Any]) -> Callable[..., Any]:
    calls = {"n": 0}

    def call(*args: Any) -> Any:
        calls["n"] += 1
        return first(*args) if calls["n"] == 1 else then(*args)

    return call


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_lost_after_the_effect_was_made_never_doubles_it(
    kind, setup, store, emulator, monkeypatch, in_doubt
):
    effect = setup(kind)
    _lose_the_answer(kind, emulator, monkeypatch, made=True)
    with pytest.raises(Exception) as first:
        effect.make()
    assert not isinstance(first.value, EmailNotSent | XRateLimited)
    assert effect.made() == 1 and _claim(store)["state"] == "PENDING"
    once = effect.make()
    assert effect.made() == 1  # never doubled
    if effect.at_most_once and not effect.findable:
        # An email in doubt: not repeated, and a person is told (metric, log) on both attempts.
        assert not once.made_now and once.in_doubt and _claim(store)["state"] == "PENDING"
        assert in_doubt == [IN_DOUBT_METRIC, IN_DOUBT_METRIC]
    else:
        # A post: X refuses the identical retry, read as posted. A DM: found among our DMs on X.
        assert once.made_now and _claim(store)["state"] == "DONE" and in_doubt == []
    if kind == "dm":
        assert once.recorded.result_id == emulator.dms_sent(by=BRAND)[0].id


@pytest.mark.parametrize("kind", KINDS)
def test_a_timeout_that_made_nothing_is_retried_for_posts_and_shown_for_emails_and_dms(
    kind, setup, store, emulator, monkeypatch, in_doubt
):
    effect = setup(kind)
    _lose_the_answer(kind, emulator, monkeypatch, made=False)
    with pytest.raises(Exception):  # noqa: B017 - whatever the timeout is called, it says nothing
        effect.make()
    assert effect.made() == 0
    once = effect.make()
    if effect.at_most_once:
        # It may have gone out as far as we can tell (a DM not found yet may still arrive): not
        # repeated, and never silent.
        assert not once.made_now and once.in_doubt and effect.made() == 0
        assert len(in_doubt) >= 1 and _claim(store)["state"] == "PENDING"
    else:
        assert once.made_now and effect.made() == 1  # posts are retried: not lost
        assert in_doubt == []


# --- crash after act, before record; record fails -------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "failure",
    [LambdaKilled("killed after the effect, before recording it"), StorageError("the record failed")],
    ids=["crash_after_act", "record_fails"],
)
def test_an_effect_made_but_not_recorded_is_never_made_twice(
    kind, failure, setup, store, monkeypatch, in_doubt
):
    effect = setup(kind)
    _fail_once(monkeypatch, OutboxRepository, "complete", failure)
    with pytest.raises(type(failure)):
        effect.make()
    assert effect.made() == 1 and _claim(store)["state"] == "PENDING"
    once = effect.make()
    assert effect.made() == 1  # X's duplicate refusal, the DM found on X, or the claim stops it
    if effect.at_most_once and not effect.findable:
        assert once.in_doubt and in_doubt == [IN_DOUBT_METRIC]
    else:
        assert once.made_now and _claim(store)["state"] == "DONE" and in_doubt == []


def test_the_in_doubt_log_line_names_the_effect(setup, store, monkeypatch, caplog):
    effect = setup("email")
    _fail_once(monkeypatch, OutboxRepository, "complete", LambdaKilled())
    with pytest.raises(LambdaKilled):
        effect.make()
    effect.make()
    [line] = [r for r in caplog.records if "effect in doubt" in r.getMessage()]
    assert line.levelname == "ERROR" and line.outbox == KEY  # type: ignore[attr-defined]


# --- the effect made, the case not told: the retry records it on the case ---------------------------


def test_an_ack_posted_before_the_case_recorded_it_is_recorded_by_the_retry(
    world, emulator, x_api, store, clock, monkeypatch
):
    from pathlib import Path

    from turnaround.dal.cases import CaseRepository
    from turnaround.logic.ingest.mentions import MentionIngestor
    from turnaround.models.playbook import load_playbook

    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    case_id = store.mentions.get(world["post"].id).case_id
    playbook = load_playbook(str(Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"))
    flow = x_only_workflow(store, x_api, playbook=playbook)
    _fail_once(monkeypatch, CaseRepository, "acknowledged", LambdaKilled("killed after the post"))
    with pytest.raises(LambdaKilled):
        flow.acknowledge(case_id)
    assert store.cases.get(case_id).first_response_at is None
    flow.acknowledge(case_id)  # Step Functions' retry of the task
    [ack] = emulator.posts_created(by=BRAND)
    case = store.cases.get(case_id)
    assert case.first_response_at is not None and case.ack_tweet_id == ack.id and case.ack_text == ack.text


# --- one effect pre-empting another (the rep's emailed reply and the automated ack) ----------------


def test_a_pre_empted_effect_is_never_made_and_one_already_claimed_is_not_pre_empted(
    world: dict[str, Any], emulator: XApiEmulator, x_api: XApi, store: Repositories, clock: SimulatedClock
) -> None:
    effects = Effects(store, clock)
    reply = "@jane Sorry, Jane. We're on it /AB"

    assert effects.pre_empt("case-1#ack", by="case-1#mail#m1") is None  # pre-empted now
    again = effects.pre_empt("case-1#ack", by="case-1#mail#m2")  # a second reply: it follows
    assert again is not None and again.state == "DONE" and again.pre_empted_by == "case-1#mail#m1"
    once = effects.post("case-1#ack", lambda: x_api.reply(world["post"].id, reply))
    assert not once.made_now and once.recorded.pre_empted_by == "case-1#mail#m1"
    assert emulator.posts_created(by=BRAND) == []

    made = effects.post("case-2#ack", lambda: x_api.reply(world["post"].id, reply))
    earlier = effects.pre_empt("case-2#ack", by="case-2#mail#m1")
    assert earlier is not None and earlier.state == "DONE" and earlier.result_id == made.recorded.result_id
    assert earlier.pre_empted_by is None

    store.outbox.claim("case-3#ack", claimed_at=clock())  # being made right now
    pending = effects.pre_empt("case-3#ack", by="case-3#mail#m1")
    assert pending is not None and pending.state == "PENDING"


def test_only_the_effect_that_pre_empted_another_can_free_it(
    store: Repositories, clock: SimulatedClock
) -> None:
    effects = Effects(store, clock)
    effects.pre_empt("case-1#ack", by="case-1#mail#m1")
    effects.undo_pre_emption("case-1#ack", by="case-1#mail#m2")  # not its pre-emption: kept
    assert effects.tried("case-1#ack")
    effects.undo_pre_emption("case-1#ack", by="case-1#mail#m1")
    assert not effects.tried("case-1#ack")
    store.outbox.claim("case-2#ack", claimed_at=clock())  # the ack's own claim is never undone
    effects.undo_pre_emption("case-2#ack", by="case-2#mail#m1")
    assert effects.tried("case-2#ack")
