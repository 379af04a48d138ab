"""Reply by email (issue 15), end to end on moto and the X emulator over real tweepy.

A complaint is ingested by the real poller, acknowledged and escalated by the real workflow tasks
(the escalation email carries the case's Reply-To address); the rep's reply is a real MIME message
(stdlib email, quoted history, signature) stored in moto's S3 and handed to the inbound-email
handler in the SES receipt event SES sends; customers' DMs reach the rep through the table's stream
and the DM-mail handler, filtered as template.yaml filters them.
"""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from functions.dm_mail.app import lambda_handler as dm_mail_handler
from functions.inbound_email.app import lambda_handler as inbound_handler
from local_cloud.runtime import InProcessLambdas
from local_cloud.stack import StreamMapping
from local_cloud.streams import StreamDeliveries
from tests.conftest import BRAND
from tests.helpers import PAST_X_TIMEOUT, resource
from tests.lambda_context import FakeLambdaContext as LambdaContext
from turnaround import clock as turnaround_clock
from turnaround.adapters.x_api import XApi
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import AckBeingPosted, XApiUnavailable
from turnaround.handlers.workflow_tasks import build_case_workflow
from turnaround.logic.ingest.dms import DmIngestor
from turnaround.logic.ingest.mentions import MentionIngestor
from turnaround.logic.reply_mail import reply_desk as reply_desk_module
from turnaround.logic.workflow import acknowledge as acknowledge_task
from turnaround.models.case import Case
from turnaround.models.playbook import load_playbook
from turnaround.settings import WorkflowSettings, get_settings
from x_emulator import SimulatedClock, XApiEmulator

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "reply.acmeair.example"
BUCKET = "turnaround-inbound-mail"
ALEX = "alex.brown@acmeair.example"  # the roster's rep for luggage (playbook.yaml)
SAM = "sam.evans@acmeair.example"
SUPERVISOR = "jordan.lee@acmeair.example"
CHARGED = "@acmeair lost my luggage at Heathrow, medication inside. Worst airline ever, I am furious."
SIMPLE = "@acmeair my duty-free order is late, tracking hasn't moved since Monday"
PASS = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS", "spam": "PASS", "virus": "PASS"}


def sent_emails() -> list[EmailMessage]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        email.message_from_string(m.raw_data, policy=policy.default)  # type: ignore[misc]
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if hasattr(m, "raw_data")
    ]


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@dataclass
class World:
    emulator: XApiEmulator
    clock: SimulatedClock
    store: Repositories
    x: XApi
    table: str
    ses_ids: list[str] = field(default_factory=list)

    # --- the system's side -------------------------------------------------------------------

    def ingest(self) -> None:
        MentionIngestor(handle=BRAND, x=self.x, store=self.store, clock=self.clock).poll()

    def open_case(self, text: str, *, customer: str = "jane") -> Case:
        self.emulator.add_post(customer, text)
        self.clock.advance(5)
        self.ingest()
        case = next(c for c in self.cases() if c.customer_username == customer and c.status == "OPEN")
        workflow = build_case_workflow(get_settings(WorkflowSettings))
        workflow.acknowledge(case.case_id)
        self.notify(case.case_id)
        opened = self.store.cases.get(case.case_id)
        assert opened is not None
        return opened

    def notify(self, case_id: str, token: str = "task-token-1", **kwargs: Any) -> EmailMessage:
        before = len(sent_emails())
        build_case_workflow(get_settings(WorkflowSettings)).notify(case_id, token, "rep", **kwargs)
        return sent_emails()[before]

    def cases(self) -> list[Case]:
        items = boto3.resource("dynamodb").Table(self.table).scan()["Items"]
        return [Case.model_validate(i) for i in items if i.get("type") == "case"]

    def poll_dms(self) -> None:
        playbook = load_playbook(str(ROOT / "infrastructure" / "playbook.yaml"))
        DmIngestor(handle=BRAND, x=self.x, store=self.store, playbook=playbook, clock=self.clock).poll()

    def deliver_stream(self, deliveries: StreamDeliveries, lambdas: InProcessLambdas) -> None:
        deliveries.pump(lambdas, "us-east-1")

    # --- the rep's side ----------------------------------------------------------------------

    def send(
        self, raw: bytes, *, verdicts: dict[str, str] | None = None, recipients: list[str] | None = None
    ) -> dict[str, Any]:
        """What SES does on receipt: store the message in S3, then invoke the function (Event)."""
        ses_id = f"ses{len(self.ses_ids):04d}example"
        self.ses_ids.append(ses_id)
        boto3.client("s3").put_object(Bucket=BUCKET, Key=f"inbound/{ses_id}", Body=raw)
        message = email.message_from_bytes(raw, policy=policy.default)
        v = verdicts or PASS
        event = {
            "Records": [
                {
                    "eventSource": "aws:ses",
                    "eventVersion": "1.0",
                    "ses": {
                        "mail": {
                            "timestamp": "2026-11-23T10:00:00.000Z",
                            "source": str(message.get("Return-Path", message.get("From", ""))).strip("<>"),
                            "messageId": ses_id,
                            "destination": recipients or [str(message["To"])],
                        },
                        "receipt": {
                            "recipients": recipients or [str(message["To"])],
                            **{f"{k}Verdict": {"status": s} for k, s in v.items()},
                            "action": {"type": "Lambda", "invocationType": "Event", "functionArn": "arn"},
                        },
                    },
                }
            ]
        }
        return self.redeliver(event)

    def redeliver(self, event: dict[str, Any]) -> dict[str, Any]:
        self.last_event = event
        result = inbound_handler(event, LambdaContext())
        assert isinstance(result, dict)
        return dict(result["outcomes"][0])


def reply(
    to_address: str,
    text: str,
    *,
    sender: str = ALEX,
    sender_name: str = "Alex Brown",
    subject: str = "Re: [P1] @jane - case 123456",
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    quoted: str = "Hi Alex, a new case on X is yours.\nPriority P1 - charged",
    header: str = "On Mon, 23 Nov 2026 at 09:00, Acme Air <care@acmeair.example> wrote:",
    signature: str = "-- \n{sender_name} | Acme Air care",
) -> bytes:
    """A reply as a mail client writes it: new text, signature, then the quoted email."""
    message = EmailMessage()
    message["From"] = f"{sender_name} <{sender}>"
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(turnaround_clock.utc_now())
    message["Message-ID"] = make_msgid(domain="mail.acmeair.example")
    message["In-Reply-To"] = f"<case.thread@{DOMAIN}>"
    for name, value in (headers or {}).items():
        message[name] = value
    quote = "\n".join("> " + line for line in quoted.splitlines())
    body = f"{text}\n\n{signature.format(sender_name=sender_name)}\n\n{header}\n{quote}\n"
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return message.as_bytes()


@pytest.fixture
def world(
    aws: None,
    table_name: str,
    emulator: XApiEmulator,
    clock: SimulatedClock,
    x_api: XApi,
    brand_secret: str,
    poller_env: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    boto3.client("ses").verify_domain_identity(Domain="acmeair.example")
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    secret = boto3.client("secretsmanager").create_secret(
        Name="turnaround/action-links", SecretString="s" * 64
    )["ARN"]
    for key, value in {
        "ACTION_URL": "https://actions.turnaround.test/",
        "ACTION_LINK_SECRET_NAME": secret,
        "PLAYBOOK_PATH": str(ROOT / "infrastructure" / "playbook.yaml"),
        "REPLY_EMAIL_DOMAIN": DOMAIN,
        "INBOUND_MAIL_BUCKET": BUCKET,
        "INBOUND_MAIL_PREFIX": "inbound/",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    emulator.add_user("jane", name="Jane Chan", followers=150_000, verified=True)
    emulator.add_user("bob", name="Bob Stone", followers=40)
    turnaround_clock.use(clock.now)
    try:
        yield World(emulator, clock, Repositories(table_name), x_api, table_name)
    finally:
        turnaround_clock.use(None)


def reply_to(message: EmailMessage) -> str:
    address = str(message["Reply-To"])
    assert address.startswith("case+") and address.endswith("@" + DOMAIN), address
    return address


def dm_stream(table_name: str) -> tuple[StreamDeliveries, InProcessLambdas]:
    """The table's stream → DmMailFunction, with the template's own filter and batch settings."""
    events = resource("DmMailFunction")["Properties"]["Events"]["NewCustomerDms"]["Properties"]
    stream_arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    mapping = StreamMapping(
        function="dm-mail",
        stream_arn=stream_arn,
        filters=[f["Pattern"] for f in events["FilterCriteria"]["Filters"]],
        batch_size=int(events["BatchSize"]),
        maximum_retry_attempts=int(events["MaximumRetryAttempts"]),
        report_batch_item_failures=True,
    )
    deliveries = StreamDeliveries.start(_Stack([mapping]), "us-east-1")  # type: ignore[arg-type]
    lambdas = InProcessLambdas()
    lambdas.register("dm-mail", dm_mail_handler)
    return deliveries, lambdas


@dataclass
class _Stack:
    streams: list[StreamMapping]


# --- the customer's new posts in their thread reach the rep's mailbox too -------------------------


def test_the_customers_new_post_in_the_thread_reaches_the_rep_and_a_pile_on_does_not(world: World) -> None:
    deliveries, lambdas = dm_stream(world.table)
    case = world.open_case(CHARGED)
    world.deliver_stream(deliveries, lambdas)  # the case's own first post: the escalation showed it
    escalation, before = sent_emails()[-1], len(sent_emails())
    anchor = f"<{case.case_id}.thread@{DOMAIN}>"

    world.emulator.add_user("stranger")
    world.emulator.add_post("stranger", "@acmeair same here, terrible", reply_to=case.root_tweet_id)
    still = world.emulator.add_post(
        "jane", "@acmeair 3 hours now and still nothing", reply_to=case.root_tweet_id
    )
    world.clock.advance(5)
    world.ingest()
    world.deliver_stream(deliveries, lambdas)
    [forwarded] = sent_emails()[before:]  # hers only, not the pile-on's
    body = plain(forwarded)
    assert forwarded["To"] == ALEX and anchor in forwarded["References"]
    assert forwarded["Subject"] == "Re: " + str(escalation["Subject"]).removeprefix("Re: ")
    assert "@jane posted again in the case's thread" in body and "3 hours now and still nothing" in body
    assert f"https://x.com/jane/status/{still.id}" in body and reply_to(forwarded).startswith("case+")
    world.deliver_stream(deliveries, lambdas)  # nothing new: no second email
    assert sent_emails()[-1]["Message-ID"] == forwarded["Message-ID"]


def test_a_pile_on_reaches_the_rep_when_it_grows_once_per_count_and_the_supervisor_as_it_keeps_growing(
    world: World,
) -> None:
    """A customer's complaint draws a crowd: people reply "same here" under it. Each joins the case
    and gets no reply of their own; before, the rep learned of them only from the next case email
    (a reminder, maybe an hour on). Now the rep hears at 3 other people, and at 10 with the
    supervisor copied; a batch that passes several counts sends the highest only."""
    deliveries, lambdas = dm_stream(world.table)
    case = world.open_case(CHARGED)
    world.deliver_stream(deliveries, lambdas)
    escalation, before = sent_emails()[-1], len(sent_emails())

    def pile_on(start: int, count: int) -> None:
        for n in range(start, start + count):
            world.emulator.add_user(f"crowd{n}")
            text = f"@acmeair same here #{n}, awful"
            world.emulator.add_post(f"crowd{n}", text, reply_to=case.root_tweet_id)
        world.clock.advance(5)
        world.ingest()
        world.deliver_stream(deliveries, lambdas)

    pile_on(0, 2)
    world.emulator.add_post("crowd0", "@acmeair still nothing for me either", reply_to=case.root_tweet_id)
    world.clock.advance(5)
    world.ingest()
    world.deliver_stream(deliveries, lambdas)
    assert sent_emails()[before:] == []  # two people (one twice): under the first count
    pile_on(2, 1)
    [alert] = sent_emails()[before:]
    body = plain(alert)
    assert alert["To"] == ALEX
    assert alert["Subject"] == "Re: " + str(escalation["Subject"]).removeprefix("Re: ")
    assert "Pile-on: 3 other people have joined @jane's complaint on X, newest first:" in body
    assert body.index("same here #2") < body.index("same here #1") and "still nothing for me either" in body
    pile_on(3, 3)  # 6 people: no new count, no email
    assert len(sent_emails()) == before + 1
    pile_on(6, 30)  # one poll passes 10 and 30 (36 people): one email, the supervisor copied
    [grown] = sent_emails()[before + 1 :]
    assert "Pile-on: 36 other people have joined @jane's complaint" in plain(grown)
    assert SUPERVISOR in str(grown["To"]) and "(supervisor) is copied" in plain(grown)
    assert "... and 27 more posts in the thread." in plain(grown)  # 37 posts, the newest 10 shown
    world.deliver_stream(deliveries, lambdas)  # a redelivery sends nothing again
    assert len(sent_emails()) == before + 2


def test_a_customers_later_post_about_an_injury_reaches_the_rep_with_the_supervisor_copied(
    world: World,
) -> None:
    """The case opened over a lost bag; an hour later "my dad collapsed at the carousel, he's in
    hospital now". The supervisor hears of it with the rep, as with a case that opened over it."""
    deliveries, lambdas = dm_stream(world.table)
    case = world.open_case(CHARGED)
    world.deliver_stream(deliveries, lambdas)
    before = len(sent_emails())
    world.emulator.add_post(
        "jane",
        "@acmeair my dad collapsed at the carousel and is in hospital now",
        reply_to=case.root_tweet_id,
    )
    world.clock.advance(5)
    world.ingest()
    world.deliver_stream(deliveries, lambdas)
    [forwarded] = sent_emails()[before:]
    assert forwarded["To"] == f"{ALEX}, jordan.lee@acmeair.example"
    assert "This post is about injury or health: please answer it yourself, soon." in plain(forwarded)


def test_a_customers_later_post_showing_their_details_warns_the_rep(world: World) -> None:
    """Asked to DM, she answers in public with her email address: the rep must not repeat it, and is
    told so before replying (a reply here would go public)."""
    deliveries, lambdas = dm_stream(world.table)
    case = world.open_case(SIMPLE)
    world.deliver_stream(deliveries, lambdas)
    before = len(sent_emails())
    world.emulator.add_post(
        "jane", "@acmeair order 55123, email me at jane.chan@gmail.com please", reply_to=case.root_tweet_id
    )
    world.clock.advance(5)
    world.ingest()
    world.deliver_stream(deliveries, lambdas)
    [forwarded] = sent_emails()[before:]
    body = plain(forwarded)
    assert "Their post shows their personal details in public: an email address" in body
    assert "jane.chan@gmail.com" in body  # her post as she wrote it; the warning itself masks it
    assert "Never repeat them in a reply" in body


def test_once_the_sla_passed_to_the_supervisor_the_customers_dms_still_reach_the_rep(world: World) -> None:
    """The rep is still the case's rep and may still answer: they see what the customer says, with the
    supervisor (who was emailed last) copied."""
    deliveries, lambdas = dm_stream(world.table)
    case = world.open_case(CHARGED)
    world.deliver_stream(deliveries, lambdas)
    build_case_workflow(get_settings(WorkflowSettings)).notify(case.case_id, "task-token-2", "supervisor")
    assert sent_emails()[-1]["To"] == SUPERVISOR
    world.emulator.add_dm("jane", BRAND, "I need my insulin TODAY, it is in the bag")
    world.clock.advance(5)
    world.poll_dms()
    world.deliver_stream(deliveries, lambdas)
    forwarded = sent_emails()[-1]
    assert "insulin TODAY" in plain(forwarded)
    assert forwarded["To"] == f"{ALEX}, {SUPERVISOR}"


# --- reply → DM, quoted text stripped, the customer's DMs in the rep's thread ----------------------


def test_customer_dm_reaches_the_rep_in_the_thread_and_the_reply_goes_back_as_a_dm(world: World) -> None:
    deliveries, lambdas = dm_stream(world.table)
    case = world.open_case(CHARGED)
    case_id = case.case_id
    assert case.route == "offline" and case.assignee_email == ALEX
    escalation = sent_emails()[-1]
    reply_to(escalation)
    anchor = f"<{case_id}.thread@{DOMAIN}>"
    assert escalation["References"].split()[-1] == anchor  # after the customer-day anchor

    world.emulator.add_dm("jane", BRAND, "Bag tag AC123456, flight AA204. My insulin is in it.")
    world.clock.advance(5)
    world.poll_dms()  # threads it into the case and sends the one automated DM
    world.deliver_stream(deliveries, lambdas)
    forwarded = sent_emails()[-1]
    assert (
        forwarded["To"] == ALEX and forwarded["In-Reply-To"] == anchor and anchor in forwarded["References"]
    )
    assert forwarded["Subject"] == "Re: " + str(escalation["Subject"])
    assert "Bag tag AC123456" in plain(forwarded) and reply_to(forwarded).startswith("case+")
    world.deliver_stream(deliveries, lambdas)  # nothing new on the stream: no second email
    assert sent_emails()[-1]["Message-ID"] == forwarded["Message-ID"]

    text = "Jane, I've found your bag in Heathrow T5; a courier brings it to your hotel by 6pm today."
    outcome = world.send(reply(reply_to(forwarded), text))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_dm"
    ours = world.emulator.dms_sent()
    assert ours[-1].text == text  # quoted history and signature stripped
    assert "wrote:" not in ours[-1].text and "Acme Air care" not in ours[-1].text
    confirmation = sent_emails()[-1]
    assert confirmation["To"] == ALEX and "Sent to X as a DM to @jane" in plain(confirmation)
    assert confirmation["In-Reply-To"].startswith("<") and anchor in confirmation["References"]

    # The same email delivered again (SES retry, Lambda retry): nothing posted or sent twice.
    dms, emails = len(world.emulator.dms_sent()), len(sent_emails())
    again = world.redeliver(world.last_event)
    assert again["status"] == "duplicate"
    assert len(world.emulator.dms_sent()) == dms and len(sent_emails()) == emails

    # The case keeps the conversation, and the next email about it shows who said what, where.
    reminder = world.notify(case_id, token="task-token-2", reminder=True)
    body = plain(reminder)
    assert "Conversation:" in body
    assert "@jane - X DM: Bag tag AC123456" in body
    [ack] = world.emulator.posts_created(by=BRAND)  # our public DM invite, word for word
    assert f"us (automated) - X post: {ack.text}" in body
    assert f"Alex Brown <{ALEX}> (by email) - X DM: {text}" in body
    assert body.index("Bag tag") < body.index("courier brings it")
    assert world.emulator.state()["violations"] == []


@pytest.mark.parametrize("dies_in", ["outbox_record", "conversation_record"])
def test_a_retry_after_the_lambda_died_mid_post_does_not_send_the_dm_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, dies_in: str
) -> None:
    case = world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "Booking XK42P")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    from turnaround.dal.conversation_store import ConversationStore
    from turnaround.dal.outbox import OutboxRepository

    target: Any = OutboxRepository if dies_in == "outbox_record" else ConversationStore
    name = "complete" if dies_in == "outbox_record" else "record"
    original = getattr(target, name)
    calls = {"n": 0}

    def dies_once(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("Lambda killed after the DM was sent")
        original(self, *args, **kwargs)

    monkeypatch.setattr(target, name, dies_once)
    before = len(world.emulator.dms_sent())
    with pytest.raises(RuntimeError):
        world.send(reply(address, "We have refunded the hotel night in full."))
    assert len(world.emulator.dms_sent()) == before + 1
    outcome = world.redeliver(world.last_event)  # Lambda's async retry
    # Before the outbox record, the retry finds our DM on X and records it; after it, the retry
    # finishes what the first attempt left (the conversation, the rep's confirmation).
    assert outcome["status"] == ("posted" if dies_in == "outbox_record" else "duplicate")
    assert len(world.emulator.dms_sent()) == before + 1
    [message] = [m for m in world.store.conversation.messages(case.case_id) if m.channel == "x_dm"]
    assert message.outcome == "posted" and message.x_id == world.emulator.dms_sent()[-1].id
    confirmations = [m for m in sent_emails() if "Sent to X as a DM" in plain(m)]
    assert len(confirmations) == 1


# --- reply → public reply; not summoned; too long ---------------------------------------------------


def test_reply_goes_public_to_the_customers_latest_post_that_mentions_us(world: World) -> None:
    case = world.open_case(SIMPLE, customer="bob")
    assert case.route == "public" and not case.dm_open and case.ack_tweet_id
    address = reply_to(sent_emails()[-1])
    assignee = str(case.assignee_email)
    assert assignee == SAM  # the generalist: an order is no one's topic
    outcome = world.send(
        reply(address, "Bob, your order left the depot this morning.", sender=ALEX, sender_name="Alex")
    )
    assert outcome["status"] == "refused" and "current rep" in outcome["detail"]

    # Only the root post exists and our ack answered it (one reply per post): the ack promised to
    # "update you here", so the rep's update goes under our ack, where X names bob for us.
    first = "Bob, your order left the depot this morning."
    outcome = world.send(reply(address, first, sender=assignee))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_public"
    post = world.emulator.posts_created()[-1]
    assert post.in_reply_to_tweet_id == case.ack_tweet_id and post.text == f"@bob {first}"
    assert "under our post https://x.com/acmeair/status/" in plain(sent_emails()[-1])

    follow_up = world.emulator.add_post(
        "bob", "@acmeair any news? still nothing", reply_to=case.root_tweet_id
    )
    world.clock.advance(5)
    world.ingest()
    text = (
        "Bob, it left the depot this morning and arrives tomorrow 🎉 tracking: https://acmeair.example/t/AB12"
    )
    outcome = world.send(reply(address, text, sender=assignee))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_public"
    post = world.emulator.posts_created()[-1]
    assert (
        post.text[post.display_start :] == text and post.in_reply_to_tweet_id == follow_up.id
    )  # X adds "@bob "
    assert "as a public reply to @bob's post" in plain(sent_emails()[-1])

    # Bob's post is answered now: the next update continues under our latest reply.
    outcome = world.send(reply(address, "Bob, delivered at 10:04 - enjoy!", sender=assignee))
    assert outcome["status"] == "posted"
    assert world.emulator.posts_created()[-1].in_reply_to_tweet_id == post.id
    assert world.emulator.state()["violations"] == []


def test_a_reply_from_a_mail_client_in_another_language_reaches_the_customer_without_our_email(
    world: World,
) -> None:
    """The quote header is in the rep's mail client's language ("escribió:", "Från:"), whatever the
    customer's: the parser's languages and our own address in the header cut it."""
    case = world.open_case(SIMPLE, customer="bob")
    address, assignee = reply_to(sent_emails()[-1]), str(case.assignee_email)
    gmail_pt = (
        f"Em seg., 23 de nov. de 2026 às 09:00, Acme Air <care@acmeair.example> (<{address}>) escreveu:"
    )
    text = "Bob, o seu pedido sai hoje do armazém."
    outcome = world.send(reply(address, text, sender=assignee, header=gmail_pt, signature=""))
    assert outcome["status"] == "posted"
    assert world.emulator.posts_created()[-1].text == f"@bob {text}"
    # the customer heard from a person: closing the case no longer warns of the ack's promise
    assert next(c for c in world.cases() if c.case_id == case.case_id).rep_replied_at is not None

    outlook_sv = (
        "Från: Acme Air <care@acmeair.example>\nSkickat: den 23 november 2026 09:00\n"
        "Till: Sam\nÄmne: Re: case"
    )
    text = "Bob, it arrives tomorrow before noon."
    outcome = world.send(reply(address, text, sender=assignee, header=outlook_sv, signature=""))
    assert outcome["status"] == "posted"
    assert world.emulator.posts_created()[-1].text.endswith(text)
    assert "a new case on X is yours" not in " ".join(p.text for p in world.emulator.posts_created())
    assert world.emulator.posts_created()[-1].text.endswith(text)


def test_a_reply_cut_down_to_its_greeting_is_refused_not_posted(world: World) -> None:
    case = world.open_case(SIMPLE, customer="bob")
    address, assignee = reply_to(sent_emails()[-1]), str(case.assignee_email)
    posts = len(world.emulator.posts_created())
    outcome = world.send(reply(address, "Hi Bob,", sender=assignee, signature="Thanks,\nSam"))
    assert outcome["status"] == "refused" and 'only "Hi Bob,"' in outcome["detail"]
    assert len(world.emulator.posts_created()) == posts
    assert next(c for c in world.cases() if c.case_id == case.case_id).rep_replied_at is None
    assert "Write the whole reply above the quoted email" in plain(sent_emails()[-1])


def test_without_a_post_of_ours_or_an_unanswered_one_of_theirs_nothing_is_posted(world: World) -> None:
    """A reply to our promo that does not type @acmeair gets no ack (X's rule): the rep has no
    customer post to answer and no post of ours in the case to continue under (the promo does not
    name bob), so nothing is posted and the rep keeps the text."""
    promo = world.emulator.add_post("acmeair", "Our spring sale starts today!")
    world.emulator.add_post("bob", "my duty-free order is late, tracking hasn't moved", reply_to=promo.id)
    world.clock.advance(5)
    world.ingest()
    case = next(c for c in world.cases() if c.customer_username == "bob")
    assert not build_case_workflow(get_settings(WorkflowSettings)).acknowledge(case.case_id)["acknowledged"]
    world.notify(case.case_id)
    posts = len(world.emulator.posts_created())
    notified = world.store.cases.get(case.case_id)
    assert notified is not None
    assignee = str(notified.assignee_email)
    outcome = world.send(reply(reply_to(sent_emails()[-1]), "Bob, it ships today.", sender=assignee))
    assert outcome["status"] == "refused" and "mentions us" in outcome["detail"]
    refusal = sent_emails()[-1]
    assert "Nothing was posted to X" in plain(refusal) and "it ships today" in plain(refusal)
    assert len(world.emulator.posts_created()) == posts


def test_a_reply_to_a_customer_who_blocked_us_is_refused_and_the_rep_told_why(world: World) -> None:
    case = world.open_case(SIMPLE, customer="bob")
    world.emulator.add_post("bob", "@acmeair still nothing. blocking you", reply_to=case.root_tweet_id)
    world.emulator.block("bob", "acmeair")
    world.clock.advance(5)
    world.ingest()
    posts = len(world.emulator.posts_created())
    outcome = world.send(
        reply(reply_to(sent_emails()[-1]), "Bob, it ships today.", sender=str(case.assignee_email))
    )
    assert outcome["status"] == "refused" and "blocked our account" in outcome["detail"]
    assert "Nothing was posted to X" in plain(sent_emails()[-1])
    assert len(world.emulator.posts_created()) == posts and world.emulator.violations == []


def test_too_long_for_x_is_refused_by_weighted_length_with_the_text_kept(world: World) -> None:
    case = world.open_case(SIMPLE, customer="bob")
    world.emulator.add_post("bob", "@acmeair hello?", reply_to=case.root_tweet_id)
    world.clock.advance(5)
    world.ingest()
    text = "您好" * 70 + " 抱歉"  # 143 characters, but 285 as X weighs them
    posts = len(world.emulator.posts_created())
    outcome = world.send(reply(reply_to(sent_emails()[-1]), text, sender=str(case.assignee_email)))
    assert outcome["status"] == "refused" and "285 characters as X counts them" in outcome["detail"]
    assert len(world.emulator.posts_created()) == posts
    assert text in plain(sent_emails()[-1])


# --- bad input ----------------------------------------------------------------------------------


def test_forged_tampered_and_expired_addresses_post_nothing(world: World) -> None:
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    local, domain = address.split("@")
    tampered = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    from turnaround.logic.reply_mail.reply_address import ReplyAddressSigner

    forged = ReplyAddressSigner(b"x" * 64, DOMAIN).address("case-1", recipient=ALEX, expires_at=2_000_000_000)
    dms = len(world.emulator.dms_sent())
    for bad in (tampered, forged, f"case+nothing@{DOMAIN}"):
        outcome = world.send(reply(bad, "please post this"))
        assert outcome["status"] == "invalid_address"
        assert "not a valid reply address" in plain(sent_emails()[-1])  # Alex is staff: told
    emails = len(sent_emails())
    outcome = world.send(reply(tampered, "spam", sender="someone@elsewhere.example"))
    assert outcome["status"] == "invalid_address" and len(sent_emails()) == emails  # no backscatter
    world.clock.advance(31 * 86400)
    outcome = world.send(reply(address, "late answer"))
    assert outcome["status"] == "expired_address" and "expired" in plain(sent_emails()[-1])
    assert len(world.emulator.dms_sent()) == dms


def test_a_reply_from_someone_else_is_refused_and_the_supervisor_may_reply(world: World) -> None:
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    dms, emails = len(world.emulator.dms_sent()), len(sent_emails())
    outcome = world.send(reply(address, "I'll take this one", sender=SAM, sender_name="Sam Evans"))
    assert outcome["status"] == "refused" and "current rep or the supervisor" in outcome["detail"]
    assert sent_emails()[-1]["To"] == SAM
    outcome = world.send(reply(address, "Give me your card number", sender="mallory@evil.example"))
    assert outcome["status"] == "refused" and len(sent_emails()) == emails + 1  # outsider: not answered
    assert len(world.emulator.dms_sent()) == dms
    outcome = world.send(reply(address, "Jane, I'm the supervisor; this is fixed.", sender=SUPERVISOR))
    assert outcome["status"] == "posted"


def test_a_reply_all_between_colleagues_is_a_note_never_a_message_to_the_customer(world: World) -> None:
    """The supervisor, copied on a sensitive case's first email, answers everyone: "talk to legal
    before replying". That is for the rep, not for X."""
    case = world.open_case(SIMPLE, customer="bob")
    address, assignee = reply_to(sent_emails()[-1]), str(case.assignee_email)
    posts = len(world.emulator.posts_created())
    note = "Sam - this could become a claim. Talk to legal before replying and don't admit fault."
    outcome = world.send(reply(address, note, sender=SUPERVISOR, headers={"Cc": f"Sam <{assignee}>"}))
    assert outcome["status"] == "refused" and "a note between colleagues" in outcome["detail"]
    assert len(world.emulator.posts_created()) == posts
    told = sent_emails()[-1]
    assert told["To"] == SUPERVISOR and "reply to this email's reply address only" in plain(told)

    # The rep's reply-all to the supervisor: a note too. To the case address alone: it goes out.
    outcome = world.send(
        reply(address, "On it, will call legal.", sender=assignee, headers={"Cc": SUPERVISOR})
    )
    assert outcome["status"] == "refused" and len(world.emulator.posts_created()) == posts
    outcome = world.send(reply(address, "Bob, your order left the depot this morning.", sender=assignee))
    assert outcome["status"] == "posted" and len(world.emulator.posts_created()) == posts + 1


def test_unauthenticated_mail_is_not_posted_and_the_real_rep_is_told(world: World) -> None:
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    dms = len(world.emulator.dms_sent())
    for verdicts in (
        {**PASS, "dmarc": "FAIL"},
        {**PASS, "dmarc": "GRAY", "dkim": "FAIL"},
        {**PASS, "virus": "FAIL"},
    ):
        outcome = world.send(reply(address, "forged"), verdicts=verdicts)
        assert outcome["status"] == "unauthenticated"
        notice = sent_emails()[-1]
        assert notice["To"] == ALEX and "was not posted" in plain(notice)
    outcome = world.send(
        reply(address, "no DMARC policy, SPF and DKIM pass"), verdicts={**PASS, "dmarc": "GRAY"}
    )
    assert outcome["status"] == "posted" and len(world.emulator.dms_sent()) == dms + 1


AUTO_REPLIES = [
    {"Auto-Submitted": "auto-replied"},
    {"X-Autoreply": "yes"},
    {"Precedence": "bulk"},
    {"Precedence": "auto_reply"},
    {"Subject": "Automatic reply: Re: [P1] @jane"},
]


def test_auto_replies_are_never_posted_nor_answered(world: World) -> None:
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    dms, emails = len(world.emulator.dms_sent()), len(sent_emails())
    for headers in AUTO_REPLIES:  # one case: opening one per kind would only repeat the setup
        headers = dict(headers)
        subject = headers.pop("Subject", "Re: [P1] @jane - case 123456")
        text = "I am out of the office until Monday."
        outcome = world.send(reply(address, text, headers=headers, subject=subject))
        assert outcome["status"] == "ignored", headers
    assert len(world.emulator.dms_sent()) == dms
    # Nobody answers the robot; the supervisor hears once that the case's rep may be away.
    [away] = sent_emails()[emails:]
    assert away["To"] == SUPERVISOR and "may be away" in plain(away) and "out of the office" in plain(away)

    recorded = world.store.conversation.messages(world.cases()[0].case_id)
    assert len(recorded) == len(AUTO_REPLIES) and all(m.outcome.startswith("ignored") for m in recorded)


def test_a_bounce_is_recorded_not_answered(world: World) -> None:
    world.open_case(CHARGED)
    address = reply_to(sent_emails()[-1])
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mail.acmeair.example"
    bounce["To"] = address
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce.set_content("Your message could not be delivered.")
    bounce.make_mixed()
    raw = bounce.as_bytes().replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)
    emails = len(sent_emails())
    assert world.send(raw)["status"] == "ignored"
    assert len(sent_emails()) == emails


def test_html_only_mail_and_attachments(world: World) -> None:
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    html = (
        '<div dir="ltr">Jane, the bag is on its way.<br>Alex</div><div class="gmail_quote">'
        "<div>On Mon, Acme wrote:</div><blockquote>Hi Alex, a new case</blockquote></div>"
    )
    outcome = world.send(reply(address, "", html=html, attachment=("bag-photo.pdf", b"%PDF-1.4 ...")))
    assert outcome["status"] == "posted"
    assert world.emulator.dms_sent()[-1].text == "Jane, the bag is on its way.\nAlex"
    confirmation = plain(sent_emails()[-1])
    assert (
        "no plain-text part" in confirmation
        and "not forwarded" in confirmation
        and "bag-photo.pdf" in confirmation
    )


def test_huge_mail_is_refused_unread(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOUND_MAX_BYTES", "65536")
    get_settings.cache_clear()
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    dms = len(world.emulator.dms_sent())
    outcome = world.send(reply(address, "see the attached", attachment=("scan.pdf", b"0" * 200_000)))
    assert outcome["status"] == "refused" and "MB" in outcome["detail"]
    assert "Nothing was posted" in plain(sent_emails()[-1]) and len(world.emulator.dms_sent()) == dms


def test_the_mailbox_reads_a_message_with_one_get_and_an_oversized_one_only_to_its_head(aws: None) -> None:
    from turnaround.adapters.mailbox import HEAD_BYTES, Mailbox

    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    small, large = b"Subject: hi\r\n\r\nthanks\r\n", b"Subject: scan\r\n\r\n" + b"0" * 200_000
    client.put_object(Bucket=BUCKET, Key="inbound/small", Body=small)
    client.put_object(Bucket=BUCKET, Key="inbound/large", Body=large)
    calls: list[str] = []
    client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    mailbox = Mailbox(BUCKET, "inbound/", client=client)
    assert mailbox.read("small", max_bytes=65_536) == (small, len(small))
    assert mailbox.read("large", max_bytes=65_536) == (large[:HEAD_BYTES], len(large))
    assert calls == ["GetObject", "GetObject"]


def test_a_closed_case_takes_no_more_replies(world: World) -> None:
    case = world.open_case(CHARGED)
    address = reply_to(sent_emails()[-1])
    build_case_workflow(get_settings(WorkflowSettings)).close(case.case_id, "resolved")
    outcome = world.send(reply(address, "one more thing"))
    assert outcome["status"] == "refused" and "closed" in outcome["detail"]
    assert "one more thing" in plain(sent_emails()[-1])


def test_the_template_receives_mail_through_s3_then_the_function() -> None:
    rule = resource("InboundReceiptRule")["Properties"]["Rule"]
    assert [next(iter(a)) for a in rule["Actions"]] == ["S3Action", "LambdaAction"]
    assert rule["Actions"][1]["LambdaAction"]["InvocationType"] == "Event" and rule["ScanEnabled"]
    bucket = resource("InboundMailBucket")["Properties"]
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statement = resource("InboundMailBucketPolicy")["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert set(statement["Condition"]) == {"StringEquals", "ArnLike"}
    permission = resource("InboundEmailInvokePermission")["Properties"]
    assert permission["Principal"] == "ses.amazonaws.com" and permission["SourceAccount"]
    assert yaml.safe_dump(rule)  # plain data, no unresolved tags lost
    assert json.dumps(resource("DmMailFunction")["Properties"]["Events"])


# --- every effect here goes through logic/effects.py: retried, never doubled, never silently lost ---


def test_a_5xx_on_the_automated_dm_is_retried_by_the_next_poll(world: World) -> None:
    case = world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "Booking XK42P")
    world.clock.advance(5)
    world.emulator.inject_fault("create_dm", "server_error")
    with pytest.raises(XApiUnavailable):
        world.poll_dms()  # the customer's DM is stored; the pass fails, so the checkpoint stays
    assert world.emulator.dms_sent(by=BRAND) == []
    world.poll_dms()  # re-reads the event: the confirmation was not made, so now it is
    [confirmation] = world.emulator.dms_sent(by=BRAND)
    world.poll_dms()
    assert len(world.emulator.dms_sent(by=BRAND)) == 1
    stored = {dm.event_id for dm in world.store.dms.for_case(case.case_id) if dm.direction == "brand"}
    assert stored == {confirmation.id}


def test_an_unanswered_automated_dm_is_found_by_the_next_poll_and_not_sent_again(world: World) -> None:
    case = world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "Booking XK42P")
    world.clock.advance(5)
    world.emulator.inject_fault(
        "create_dm", "lost_response", delay_seconds=PAST_X_TIMEOUT
    )  # X sends it; no answer
    with pytest.raises(XApiUnavailable):
        world.poll_dms()
    world.poll_dms()
    [confirmation] = world.emulator.dms_sent(by=BRAND)
    stored = {dm.event_id for dm in world.store.dms.for_case(case.case_id) if dm.direction == "brand"}
    assert stored == {confirmation.id}  # found among our DMs on X and recorded


def test_an_emailed_public_reply_whose_answer_was_lost_is_posted_once_and_confirmed(world: World) -> None:
    case = world.open_case(SIMPLE, customer="bob")
    world.emulator.add_post("bob", "@acmeair any news?", reply_to=case.root_tweet_id)
    world.clock.advance(5)
    world.ingest()
    posts = len(world.emulator.posts_created(by=BRAND))
    world.emulator.inject_fault(
        "create_tweet", "lost_response", delay_seconds=PAST_X_TIMEOUT
    )  # posted; no answer
    with pytest.raises(XApiUnavailable):
        world.send(
            reply(reply_to(sent_emails()[-1]), "Bob, it arrives tomorrow.", sender=str(case.assignee_email))
        )
    outcome = world.redeliver(world.last_event)  # Lambda's async retry: X refuses the identical post
    assert outcome["status"] == "posted"  # read as posted, not as "refused as a duplicate"
    assert len(world.emulator.posts_created(by=BRAND)) == posts + 1
    assert "as a public reply to @bob's post" in plain(sent_emails()[-1])


def test_an_emailed_dm_in_doubt_is_not_sent_again_and_the_rep_is_told_to_check(world: World) -> None:
    world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "Booking XK42P")
    world.clock.advance(5)
    world.poll_dms()
    sent = len(world.emulator.dms_sent(by=BRAND))
    # no answer within our timeout
    world.emulator.inject_fault("create_dm", "timeout", delay_seconds=PAST_X_TIMEOUT)
    with pytest.raises(XApiUnavailable):
        world.send(reply(reply_to(sent_emails()[-1]), "We have refunded the hotel night in full."))
    outcome = world.redeliver(world.last_event)
    assert outcome["status"] == "duplicate" and outcome["detail"] == "in doubt"
    assert len(world.emulator.dms_sent(by=BRAND)) == sent  # not repeated
    told = plain(sent_emails()[-1])
    assert "could not confirm" in told and "refunded the hotel night" in told


# --- the customer's personal details never go public -----------------------------------------------


def test_a_public_reply_showing_the_customers_details_is_refused_and_the_rep_told_what_and_how(
    world: World,
) -> None:
    case = world.open_case(SIMPLE, customer="bob")
    assert case.route == "public" and not case.dm_open
    rep, address = str(case.assignee_email), reply_to(sent_emails()[-1])
    posts = len(world.emulator.posts_created(by=BRAND))
    leaky = "Bob, order K7QZ2P ships today; we'll call you on +44 7911 123456 or mail bob.stone@gmail.com"
    outcome = world.send(reply(address, leaky, sender=rep))
    assert outcome["status"] == "refused"
    assert outcome["detail"] == (
        "it would show the customer's personal details in public: a booking reference (K*****), "
        "a phone number (+** **** ****56) and an email address (b***@gmail.com)"
    )
    assert len(world.emulator.posts_created(by=BRAND)) == posts  # nothing went to X
    told = plain(sent_emails()[-1])
    assert "Nothing was posted to X: it would show the customer's personal details" in told
    assert "ask the customer" in told and "DM us" in told and "remove the detail" in told
    assert 'write it with a # in front ("order #8339201847")' in told  # a phone number was read
    assert leaky in told  # the rep's text is kept (their own mailbox), not lost
    [message] = world.store.conversation.messages(case.case_id)
    assert message.outcome.startswith("not posted: it would show the customer's personal details")

    # Our everyday public words (flight, time, price, our case ref, a link) go out as written.
    clean = "Bob, it ships today on UA123 at 10:30; the $45.00 fee is refunded (ref 123456) https://acmeair.example/t/AB12"
    outcome = world.send(reply(address, clean, sender=rep))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_public"
    assert world.emulator.posts_created(by=BRAND)[-1].text.endswith(clean)
    assert world.emulator.state()["violations"] == []


def test_an_order_number_read_as_a_phone_number_goes_out_written_as_the_refusal_says(world: World) -> None:
    """Ten digits are a valid US phone number: "order 8339201847" is refused (the guard cannot tell
    an order number from a phone number). The rep, told how, writes it "#8339201847" and it posts."""
    case = world.open_case(SIMPLE, customer="bob")
    rep, address = str(case.assignee_email), reply_to(sent_emails()[-1])
    outcome = world.send(reply(address, "Bob, order 8339201847 ships today.", sender=rep))
    assert outcome["status"] == "refused" and "a phone number" in outcome["detail"]
    assert "a #number is not read" in plain(sent_emails()[-1])
    outcome = world.send(reply(address, "Bob, order #8339201847 ships today.", sender=rep))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_public"
    assert world.emulator.posts_created(by=BRAND)[-1].text.endswith("order #8339201847 ships today.")


def test_a_dm_may_carry_the_customers_details(world: World) -> None:
    case = world.open_case(CHARGED)
    assert case.route == "offline"
    invited = plain(sent_emails()[-1])
    assert invited  # the escalation
    world.emulator.add_dm("jane", BRAND, "Booking XK42P9, my phone is +44 7911 123456")
    world.clock.advance(5)
    world.poll_dms()
    text = "Jane, booking XK42P9 is refunded to 4111 1111 1111 1111; we'll call +44 7911 123456 at 5pm."
    outcome = world.send(reply(reply_to(sent_emails()[-1]), text))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_dm"
    assert world.emulator.dms_sent(by=BRAND)[-1].text == text


def test_an_offline_case_is_told_the_dm_invite_is_the_way(world: World) -> None:
    """The customer was invited to DM and has not yet: the rep's public reply with a booking code
    is refused, and the rep is told their reply will go as a DM once the customer writes."""
    case = world.open_case(CHARGED)
    assert case.route == "offline" and not case.dm_open
    posts = len(world.emulator.posts_created(by=BRAND))
    outcome = world.send(reply(reply_to(sent_emails()[-1]), "Jane, booking XK42P9 is rebooked for tonight."))
    assert outcome["status"] == "refused" and "a booking reference (X*****)" in outcome["detail"]
    assert "We invited the customer to DM us" in plain(sent_emails()[-1])
    assert len(world.emulator.posts_created(by=BRAND)) == posts


def test_a_case_whose_ack_never_invited_a_dm_is_not_told_it_did(world: World) -> None:
    """A sensitive case goes offline but gets no automated ack, so nobody invited the customer to
    DM: the refused rep is told to ask them, not to wait for a DM that will not come."""
    case = world.open_case("@acmeair my father passed away and you still won't refund his ticket")
    assert case.route == "offline" and case.ack_tweet_id is None
    text = "Jane, booking XK42P9 is refunded in full."
    outcome = world.send(reply(reply_to(sent_emails()[-1]), text, sender=str(case.assignee_email)))
    assert outcome["status"] == "refused" and "a booking reference" in outcome["detail"]
    told = plain(sent_emails()[-1])
    assert "We invited the customer to DM us" not in told and "ask the customer" in told


# --- the rep's reply and the automated ack share one claim: never the ack after the rep ------------


def _assigned_and_emailed(world: World, text: str, customer: str) -> tuple[Case, str]:
    """A complaint the workflow has assigned and emailed to its rep, its ack not yet posted (the
    state machine runs the ack and the rep's email side by side)."""
    world.emulator.add_post(customer, text)
    world.clock.advance(5)
    world.ingest()
    case = next(c for c in world.cases() if c.customer_username == customer)
    build_case_workflow(get_settings(WorkflowSettings)).assign(case.case_id)
    address = reply_to(world.notify(case.case_id))
    assigned = world.store.cases.get(case.case_id)
    assert assigned is not None and assigned.assignee_email and assigned.ack_tweet_id is None
    return assigned, address


def test_a_reps_reply_between_the_acks_check_and_its_post_means_the_ack_never_posts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, address = _assigned_and_emailed(world, SIMPLE, "bob")
    text = "Bob, your order left the depot this morning and arrives tomorrow."
    rep_outcomes: list[dict[str, Any]] = []
    checked = acknowledge_task._not_ours_to_send

    def rep_replies_right_after_the_check(*args: Any) -> str | None:
        reason = checked(*args)
        if reason is None and not rep_outcomes:  # the ack found no reply yet; now the rep's lands
            rep_outcomes.append(world.send(reply(address, text, sender=str(case.assignee_email))))
        return reason

    monkeypatch.setattr(acknowledge_task, "_not_ours_to_send", rep_replies_right_after_the_check)
    workflow = build_case_workflow(get_settings(WorkflowSettings))
    result = workflow.acknowledge(case.case_id)
    assert rep_outcomes[0]["status"] == "posted"
    assert not result["acknowledged"] and result["reason"] == "the rep's emailed reply went first"
    [ours] = world.emulator.posts_created(by=BRAND)  # the rep's answer, and no canned ack after it
    assert ours.text == f"@bob {text}" and ours.in_reply_to_tweet_id == case.root_tweet_id

    # Retries change nothing: the ack's (Step Functions) and the email's (SES, Lambda).
    monkeypatch.undo()
    assert not workflow.acknowledge(case.case_id)["acknowledged"]
    assert world.redeliver(world.last_event)["status"] == "duplicate"
    assert len(world.emulator.posts_created(by=BRAND)) == 1
    after = world.store.cases.get(case.case_id)
    assert after is not None and after.ack_tweet_id is None and after.ack_error is None
    assert world.emulator.state()["violations"] == []


def test_a_reps_reply_while_the_ack_is_being_posted_follows_the_ack(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply_desk_module, "ACK_SETTLE_WAITS", ())  # no waiting in a test
    case, address = _assigned_and_emailed(world, SIMPLE, "bob")
    text = "Bob, your order left the depot this morning and arrives tomorrow."
    raised: list[BaseException] = []
    post_reply = XApi.reply

    def rep_replies_while_x_posts_the_ack(self: XApi, *args: Any, **kwargs: Any) -> str:
        if not raised:  # the ack is claimed and X is answering it: the rep's reply lands now
            with pytest.raises(AckBeingPosted) as error:
                world.send(reply(address, text, sender=str(case.assignee_email)))
            raised.append(error.value)
        return post_reply(self, *args, **kwargs)

    monkeypatch.setattr(XApi, "reply", rep_replies_while_x_posts_the_ack)
    result = build_case_workflow(get_settings(WorkflowSettings)).acknowledge(case.case_id)
    assert raised and result["acknowledged"]
    [ack] = world.emulator.posts_created(by=BRAND)  # nothing of the rep's went out before it
    assert ack.in_reply_to_tweet_id == case.root_tweet_id

    outcome = world.redeliver(world.last_event)  # Lambda's async retry of the rep's email
    assert outcome["status"] == "posted" and outcome["channel"] == "x_public"
    first, second = world.emulator.posts_created(by=BRAND)
    assert first.id == ack.id and second.text == f"@bob {text}"
    assert second.in_reply_to_tweet_id == ack.id  # under our ack: one reply of ours to bob's post
    assert world.emulator.state()["violations"] == []


def test_an_ack_the_workflow_gave_up_on_does_not_hold_the_reps_reply(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X never answered the ack (it may have posted) and the workflow recorded it as not posted:
    its claim stays pending for good, and the rep's reply goes ahead."""
    monkeypatch.setattr(reply_desk_module, "ACK_SETTLE_WAITS", ())
    case, address = _assigned_and_emailed(world, SIMPLE, "bob")
    workflow = build_case_workflow(get_settings(WorkflowSettings))
    world.emulator.inject_fault("create_tweet", "timeout", delay_seconds=PAST_X_TIMEOUT)
    with pytest.raises(XApiUnavailable):
        workflow.acknowledge(case.case_id)
    with pytest.raises(AckBeingPosted):  # the ack's retry may still post it: the rep's reply waits
        world.send(reply(address, "Bob, it arrives tomorrow.", sender=str(case.assignee_email)))
    workflow.ack_not_posted(case.case_id, {"Error": "XApiUnavailable", "Cause": "timeout"})
    outcome = world.redeliver(world.last_event)
    assert outcome["status"] == "posted"
    assert world.emulator.posts_created(by=BRAND)[-1].text == "@bob Bob, it arrives tomorrow."


def test_a_reply_to_the_ack_not_posted_note_reaches_the_customer(world: World) -> None:
    """The note is the newest email of the case's thread, so it is the one a rep answers: it carries
    the case's reply address (it went to the brand's sender mailbox, unread)."""
    case, _ = _assigned_and_emailed(world, SIMPLE, "bob")
    workflow = build_case_workflow(get_settings(WorkflowSettings))
    workflow.ack_not_posted(case.case_id, {"Error": "XBlockedByCustomer", "Cause": "blocked"})
    note = sent_emails()[-1]
    assert "was not posted" in plain(note) and reply_to(note).startswith("case+")
    outcome = world.send(
        reply(reply_to(note), "Bob, sorry - it ships today.", sender=str(case.assignee_email))
    )
    assert outcome["status"] == "posted"


def test_once_x_refuses_the_reps_dm_their_next_reply_goes_public(world: World) -> None:
    """The customer DMed us, then closed their DMs: every later DM would be refused the same way, so
    the rep is told their next reply goes public, and it does."""
    case = world.open_case(CHARGED)
    world.emulator.add_dm("jane", BRAND, "hi")
    world.clock.advance(5)
    world.poll_dms()
    address = reply_to(sent_emails()[-1])
    jane = world.emulator.world.user_by_name("jane")
    assert jane is not None
    jane.dm_refuse = True
    outcome = world.send(reply(address, "Jane, I've refunded the second charge."))
    assert outcome["status"] == "refused" and "DMs are closed" in outcome["detail"]
    assert "goes to them publicly on X" in plain(sent_emails()[-1])
    assert next(c for c in world.cases() if c.case_id == case.case_id).dm_refused
    outcome = world.send(reply(address, "Jane, the second charge is refunded; it shows in 3-5 days."))
    assert outcome["status"] == "posted" and outcome["channel"] == "x_public"


def test_a_reply_x_refuses_does_not_stop_the_ack_it_pre_empted(world: World) -> None:
    """The rep's reply claimed the ack's turn, then X refused it (a duplicate of one of our posts):
    nothing of ours reached the customer, so the ack still goes out."""
    case, address = _assigned_and_emailed(world, SIMPLE, "bob")
    world.emulator.add_post(BRAND, "Bob, it ships today.")
    outcome = world.send(reply(address, "Bob, it ships today.", sender=str(case.assignee_email)))
    assert outcome["status"] == "refused" and "duplicate" in outcome["detail"]
    result = build_case_workflow(get_settings(WorkflowSettings)).acknowledge(case.case_id)
    assert result["acknowledged"]
    [ack] = world.emulator.posts_created(by=BRAND)[-1:]
    assert ack.in_reply_to_tweet_id == case.root_tweet_id


class LambdaKilled(BaseException):
    """The Lambda died (timeout, out of memory) between two lines."""


def test_a_reply_whose_lambda_died_after_pre_empting_the_ack_is_posted_by_the_retry_and_the_ack_never(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, address = _assigned_and_emailed(world, SIMPLE, "bob")
    post_reply = XApi.reply

    def dies_before_posting(self: XApi, *args: Any, **kwargs: Any) -> str:
        monkeypatch.setattr(XApi, "reply", post_reply)  # once
        raise LambdaKilled

    monkeypatch.setattr(XApi, "reply", dies_before_posting)
    with pytest.raises(LambdaKilled):
        world.send(reply(address, "Bob, it arrives tomorrow.", sender=str(case.assignee_email)))
    workflow = build_case_workflow(get_settings(WorkflowSettings))
    assert not workflow.acknowledge(case.case_id)["acknowledged"]  # the reply holds the ack's turn
    assert world.redeliver(world.last_event)["status"] == "posted"  # Lambda's retry: not lost
    assert not workflow.acknowledge(case.case_id)["acknowledged"]
    [ours] = world.emulator.posts_created(by=BRAND)
    assert ours.text == "@bob Bob, it arrives tomorrow." and ours.in_reply_to_tweet_id == case.root_tweet_id


@pytest.mark.parametrize("rep_answered", [False, True])
def test_a_follower_case_gets_the_ack_only_if_nothing_of_ours_reached_the_customer(
    world: World, rep_answered: bool
) -> None:
    """The first case's ack never posted (X refused it). If its rep has answered by email since, the
    customer's next post ("still no update") gets no canned ack after that personal reply; if nobody has,
    its ack is the customer's only answer. The rep's email says what the ack task does."""
    first, address = _assigned_and_emailed(world, SIMPLE, "bob")
    workflow = build_case_workflow(get_settings(WorkflowSettings))
    workflow.ack_not_posted(first.case_id, {"Error": "XReplyNotAllowed", "Cause": "refused"})
    if rep_answered:
        outcome = world.send(reply(address, "Bob, it ships today.", sender=str(first.assignee_email)))
        assert outcome["status"] == "posted"
    posts = len(world.emulator.posts_created(by=BRAND))
    world.emulator.add_post("bob", "@acmeair still no update on my order, this is ridiculous")
    world.clock.advance(5)
    world.ingest()
    [follower] = [c for c in world.cases() if c.customer_username == "bob" and c.case_id != first.case_id]
    workflow.assign(follower.case_id)
    assigned = world.store.cases.get(follower.case_id)
    assert assigned is not None and assigned.follows_case_id == first.case_id
    told = plain(world.notify(follower.case_id, token="task-token-2"))
    result = workflow.acknowledge(follower.case_id)
    if rep_answered:
        assert not result["acknowledged"] and "earlier case" in result["reason"]
        assert len(world.emulator.posts_created(by=BRAND)) == posts
        assert "Public acknowledgement: none: the customer's earlier case" in told
    else:
        assert result["acknowledged"], result.get("reason")
        assert world.emulator.posts_created(by=BRAND)[-1].in_reply_to_tweet_id == follower.root_tweet_id
        assert "earlier case" not in told


def test_a_reply_x_refused_for_a_deleted_post_goes_under_our_post_when_sent_again(world: World) -> None:
    """The customer deleted their latest post: X refuses a reply to it, and the rep's next reply goes
    under our ack instead of to the dead post again (before, every later reply was refused)."""
    case = world.open_case(SIMPLE, customer="bob")
    later = world.emulator.add_post("bob", "@acmeair any news?? this is a joke", reply_to=case.root_tweet_id)
    world.clock.advance(5)
    world.ingest()
    world.emulator.delete_post(later.id)
    address, rep = reply_to(sent_emails()[-1]), str(case.assignee_email)

    first = world.send(reply(address, "Bob, your order ships today.", sender=rep))
    assert first["status"] == "refused" and "deleted the post" in first["detail"]
    told = plain(sent_emails()[-1])
    assert "Reply again to send it" in told

    again = world.send(reply(address, "Bob, your order ships today, tracking by email.", sender=rep))
    assert again["status"] == "posted"
    (ack, sent) = world.emulator.posts_created(by=BRAND)
    assert ack.id == case.ack_tweet_id and sent.in_reply_to_tweet_id == ack.id


def test_the_follow_up_never_answers_a_new_version_of_the_post_the_ack_answered(world: World) -> None:
    """The case opened from an edit (the mention added in version 2) and the customer edited it again:
    version 3 is the same interaction the ack answered, and X allows one reply per interaction."""
    first = world.emulator.add_post("bob", "my duty-free order is late, tracking hasn't moved since Monday")
    world.clock.advance(60)
    second = world.emulator.edit_post(first.id, SIMPLE)
    world.clock.advance(5)
    world.ingest()
    case = next(c for c in world.cases() if c.customer_username == "bob")
    assert case.root_tweet_id == second.id
    workflow = build_case_workflow(get_settings(WorkflowSettings))
    assert workflow.acknowledge(case.case_id)["acknowledged"]
    world.clock.advance(120)
    world.emulator.edit_post(second.id, SIMPLE + " (order #55123)")
    world.clock.advance(5)
    world.ingest()

    result = workflow.ask_follow_up(case.case_id)

    assert not result["asked"] and result["reason"] == "no customer post left to reply to"
    assert [p.in_reply_to_tweet_id for p in world.emulator.posts_created(by=BRAND)] == [second.id]


def test_the_follow_up_names_the_customer_as_their_latest_post_does_after_a_rename(world: World) -> None:
    """Bob became @bobby_new and a stranger took @bob: the follow-up, days after the case opened,
    must not mention the stranger."""
    case = world.open_case(SIMPLE, customer="bob")
    world.emulator.world.require_user("bob").username = "bobby_new"
    world.emulator.add_user("bob", name="Some Stranger")
    world.emulator.add_post("bobby_new", "@acmeair still waiting on that order", reply_to=case.root_tweet_id)
    world.clock.advance(5)
    world.ingest()

    result = build_case_workflow(get_settings(WorkflowSettings)).ask_follow_up(case.case_id)

    assert result["asked"] and result["channel"] == "public"
    follow_up = world.emulator.posts_created(by=BRAND)[-1]
    assert follow_up.text.startswith("@bobby_new Hope everything is sorted now")
    assert "@bob " not in follow_up.text
