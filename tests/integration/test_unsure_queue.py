"""The unsure queue: an undecided post reaches a person by digest, who opens a case or says no."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from tests.cloud import body_of, wait_until
from tests.conftest import BRAND
from tests.lambda_context import FakeLambdaContext
from turnaround.exceptions import EmailNotSent
from turnaround.logic.ingest.mentions import MentionIngestor
from turnaround.logic.rep_actions.links import ActionLinkInvalid, ActionLinkUsed
from turnaround.logic.rep_actions.review import ReviewDesk, ReviewLinkSigner, ReviewQueue, UnsureDigest
from turnaround.models.playbook import load_playbook

SECRET = b"k" * 64
UNSURE = "@acmeair il volo è stato cancellato e nessuno risponde"  # Italian: the playbook has no "it"
ACTION_URL = "https://actions.turnaround.test/"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> str:
        self.sent.append(message)
        return f"m{len(self.sent)}"


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _links(message: EmailMessage) -> list[dict[str, str]]:
    """Per post, in order: {'open_case': url, 'not_complaint': url}."""
    text = _text(message)
    opens = re.findall(r"Open a case:\s+(\S+)", text)
    nots = re.findall(r"Not a complaint:\s+(\S+)", text)
    return [{"open_case": o, "not_complaint": n} for o, n in zip(opens, nots, strict=True)]


@pytest.fixture
def queued(emulator, x_api, store, clock):
    emulator.add_user("lucia", name="Lucía Pérez", followers=300)
    emulator.add_user("bob", followers=40)
    italian = emulator.add_post("lucia", UNSURE)
    italian.lang = "it"
    sure = emulator.add_post("bob", "@acmeair on hold for 2 hours and nobody calls back")
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    return {"unsure": italian.id, "complaint": sure.id}


@pytest.fixture
def digest(store, clock):
    outbox = Outbox()
    playbook = load_playbook("infrastructure/playbook.yaml")
    return UnsureDigest(
        queue=ReviewQueue(store),
        mailer=outbox,  # type: ignore[arg-type]
        signer=ReviewLinkSigner(SECRET),
        playbook=playbook,
        action_url=ACTION_URL,
        clock=clock,
    ), outbox


def _desk(store, clock) -> ReviewDesk:
    return ReviewDesk(queue=ReviewQueue(store), signer=ReviewLinkSigner(SECRET), clock=clock)


def _token(url: str) -> str:
    return url.split("?t=", 1)[1]


def test_only_unsure_posts_are_queued_and_emailed_once(queued, digest, store):
    waiting = ReviewQueue(store).waiting(BRAND)
    assert [item.tweet_id for item in waiting] == [queued["unsure"]]
    sender, outbox = digest
    assert sender.send(BRAND) == 1
    (message,) = outbox.sent
    assert message["To"] == "sam.evans@acmeair.example"  # the generalist rep: on duty by default
    assert "nessuno risponde" in _text(message) and "language it" in _text(message)
    assert len(_links(message)) == 1
    assert sender.send(BRAND) == 0 and len(outbox.sent) == 1  # nothing new: no second digest


def test_open_a_case_from_the_digest(queued, digest, store, clock):
    sender, outbox = digest
    sender.send(BRAND)
    (links,) = _links(outbox.sent[0])
    desk = _desk(store, clock)
    desk.preview(_token(links["open_case"]))  # GET: nothing changes
    assert store.mentions.get(queued["unsure"]).case_id is None
    assert desk.act(_token(links["open_case"]), by="Sam Evans") == "open_case"
    mention = store.mentions.get(queued["unsure"])
    case = store.cases.get(mention.case_id)
    assert case.status == "OPEN" and case.root_tweet_id == queued["unsure"]
    assert mention.triage.category == "complaint"
    assert "opened by Sam Evans from the unsure queue" in mention.triage.reasons
    assert [m.tweet_id for m in store.mentions.for_case(case.case_id)] == [queued["unsure"]]
    with pytest.raises(ActionLinkUsed):  # the sibling link of the same post is dead too
        desk.act(_token(links["not_complaint"]))
    assert ReviewQueue(store).waiting(BRAND) == []


def test_not_a_complaint_relabels_and_opens_nothing(queued, digest, store, clock):
    sender, outbox = digest
    sender.send(BRAND)
    (links,) = _links(outbox.sent[0])
    _desk(store, clock).act(_token(links["not_complaint"]))
    mention = store.mentions.get(queued["unsure"])
    assert mention.triage.category == "other" and mention.case_id is None
    item = ReviewQueue(store).get(BRAND, ReviewQueue.key(queued["unsure"]))
    assert item is not None and item.decision == "not_complaint"  # the brand's own labelled post, to train on


def test_forged_or_escalation_keyed_links_are_refused(queued, digest, store, clock):
    sender, outbox = digest
    sender.send(BRAND)
    (links,) = _links(outbox.sent[0])
    token = _token(links["open_case"])
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(ActionLinkInvalid):
        _desk(store, clock).act(forged)
    other_key = ReviewDesk(queue=ReviewQueue(store), signer=ReviewLinkSigner(b"z" * 64), clock=clock)
    with pytest.raises(ActionLinkInvalid):
        other_key.act(token)


def _url_event(method: str, url: str, form: dict[str, str] | None = None) -> dict[str, Any]:
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    http = {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "queryStringParameters": query or None,
        "headers": {"host": parts.netloc, "content-type": "application/x-www-form-urlencoded"},
        "requestContext": {"http": http, "domainName": parts.netloc, "requestId": "r", "stage": "$default"},
        "body": urlencode(form) if form is not None else None,
        "isBase64Encoded": False,
    }


def test_the_action_page_serves_review_links(queued, digest, store, monkeypatch):
    from turnaround.settings import get_settings

    secret = boto3.client("secretsmanager").create_secret(Name="links", SecretString=SECRET.decode())["ARN"]
    monkeypatch.setenv("TABLE_NAME", store.table_name)
    monkeypatch.setenv("ACTION_LINK_SECRET_NAME", secret)
    get_settings.cache_clear()
    from functions.action_page import app as page
    from turnaround.handlers.action_page import review_desk

    review_desk.cache_clear()  # type: ignore[attr-defined]
    sender, outbox = digest
    sender.send(BRAND)
    (links,) = _links(outbox.sent[0])
    shown = page.lambda_handler(_url_event("GET", links["open_case"]), FakeLambdaContext())
    assert shown["statusCode"] == 200 and "Open a case?" in shown["body"] and "nessuno" in shown["body"]
    assert store.mentions.get(queued["unsure"]).case_id is None
    done = page.lambda_handler(
        _url_event("POST", ACTION_URL + "review", {"t": _token(links["open_case"])}), FakeLambdaContext()
    )
    assert done["statusCode"] == 200 and store.mentions.get(queued["unsure"]).case_id
    again = page.lambda_handler(
        _url_event("POST", ACTION_URL + "review", {"t": _token(links["open_case"])}), FakeLambdaContext()
    )
    assert again["statusCode"] == 409


def test_a_failed_send_releases_the_posts_for_the_next_digest(queued, digest, store, clock):
    sender, outbox = digest

    class Rejects:
        def send(self, message: EmailMessage) -> str:
            raise EmailNotSent("SES rejected (MessageRejected)")  # what the Mailer raises

    failing = UnsureDigest(
        queue=sender.queue, mailer=Rejects(), signer=sender.signer, playbook=sender.playbook,  # type: ignore[arg-type]
        action_url=ACTION_URL, clock=clock,
    )  # fmt: skip
    with pytest.raises(EmailNotSent):
        failing.send(BRAND)
    assert sender.send(BRAND) == 1 and len(outbox.sent) == 1


def test_a_post_claimed_by_one_run_is_not_news_to_another(queued, digest, store, clock):
    sender, outbox = digest
    (item,) = ReviewQueue(store).waiting(BRAND)
    assert ReviewQueue(store).claim(item, clock())  # another run got it first
    assert sender.send(BRAND) == 0 and outbox.sent == []


def test_opening_a_case_in_a_closed_thread_opens_a_case_of_the_posters_own(
    emulator, x_api, store, digest, clock
):
    """Was: the post joined the thread's closed case, so the reviewer's "Open a case" started no
    workflow and the customer reached nobody."""
    emulator.add_user("bob", followers=40)
    emulator.add_user("lucia", name="Lucía Pérez", followers=300)
    root = emulator.add_post("bob", "@acmeair on hold for 2 hours and nobody calls back")
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    old = store.cases.get(store.cases.thread_cases(root.id).starter or "")
    assert old is not None
    store.cases.closed(old, at=clock(), outcome="resolved")
    clock.advance(60)
    reply = emulator.add_post("lucia", "il volo è stato cancellato e nessuno risponde", reply_to=root.id)
    reply.lang = "it"
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    assert [item.tweet_id for item in ReviewQueue(store).waiting(BRAND)] == [reply.id]
    sender, outbox = digest
    sender.send(BRAND)
    (links,) = _links(outbox.sent[0])
    _desk(store, clock).act(_token(links["open_case"]), by="Sam Evans")
    thread = store.cases.thread_cases(root.id)
    new = store.cases.get(thread.cases[reply.author_id])
    assert thread.starter == old.case_id  # bob's case is still the thread's: Lucía's is hers
    assert new is not None and new.case_id != old.case_id
    assert new.status == "OPEN" and new.root_tweet_id == reply.id
    assert store.mentions.get(reply.id).case_id == new.case_id
    assert store.cases.get(old.case_id).status == "CLOSED"


def test_a_case_a_reviewer_opens_under_our_post_is_not_one_others_pile_on(
    emulator, x_api, store, digest, clock
):
    """Was: under our own post (no case in the thread yet) the reviewer's case was flagged the
    thread's starter, so the next customer's complaint there joined Lucía's case: no ack and no rep
    of their own, and the rep's emailed reply went to Lucía."""
    emulator.add_user("lucia", name="Lucía Pérez", followers=300)
    emulator.add_user("bob", followers=40)
    notice = emulator.add_post("acmeair", "Our app is down for some customers; we're working on it.")
    unsure = emulator.add_post("lucia", "@acmeair l'app non funziona da stamattina", reply_to=notice.id)
    unsure.lang = "it"
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    sender, outbox = digest
    sender.send(BRAND)
    (links,) = _links(outbox.sent[0])
    _desk(store, clock).act(_token(links["open_case"]), by="Sam Evans")
    assert store.cases.thread_cases(notice.id).starter is None

    clock.advance(60)
    bob = emulator.add_post(
        "bob", "@acmeair app crashed again, can't check in for my flight. Ridiculous.", reply_to=notice.id
    )
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    thread = store.cases.thread_cases(notice.id)
    assert thread.cases[bob.author_id] == store.mentions.get(bob.id).case_id == f"case-{bob.id}"
    assert thread.cases[unsure.author_id] == store.mentions.get(unsure.id).case_id != f"case-{bob.id}"
    assert thread.starter is None


def test_the_digest_plain_text_shows_the_post_as_written_and_the_html_escapes_it(
    emulator, x_api, store, digest, clock
):
    emulator.add_user("lucia", followers=300)
    post = emulator.add_post("lucia", '@acmeair "R&D" <b>bagagli</b> & niente risposta')
    post.lang = "it"
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    sender, outbox = digest
    assert sender.send(BRAND) == 1
    (message,) = outbox.sent
    assert '"R&D" <b>bagagli</b> & niente risposta' in _text(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "&lt;b&gt;bagagli&lt;/b&gt; &amp; niente" in str(html.get_content())


def test_a_dm_from_a_customer_with_no_case_reaches_a_person_once(emulator, x_api, store, clock, digest):
    """A customer who only DMs (no post, so no case) is shown to the on-duty rep in the next digest,
    once, and nothing automated is sent to them; a failed send shows it in the next digest."""
    from turnaround.logic.ingest.dms import DmIngestor

    emulator.add_user("dana")
    emulator.add_dm("dana", BRAND, "Flight AA90 was cancelled and I have a funeral to attend. Please help")
    clock.advance(1)
    DmIngestor(handle=BRAND, x=x_api, store=store, playbook=load_playbook(), clock=clock).poll()
    assert emulator.dms_sent(by=BRAND) == []

    sender, outbox = digest

    def refuse(message: EmailMessage) -> str:
        raise EmailNotSent("SES rejected it")

    sender.mailer = type("Refusing", (), {"send": staticmethod(refuse)})()  # type: ignore[assignment]
    with pytest.raises(EmailNotSent):
        sender.send(BRAND)
    sender.mailer = outbox  # type: ignore[assignment]
    assert sender.send(BRAND) == 1
    (message,) = outbox.sent
    text = _text(message)
    assert (
        "funeral to attend" in text
        and "no open case" in text
        and "1 DM(s) with no case" in message["Subject"]
    )
    assert _links(message) == []  # nothing to decide: a person answers in X's inbox
    assert sender.send(BRAND) == 0 and len(outbox.sent) == 1  # shown once


def test_on_the_deployed_stack_the_digest_function_shows_posts_and_dms_and_a_link_opens_the_case(cloud):
    """The UnsureDigestFunction as deployed from template.yaml, under its own role (the cloud fixture
    holds every call to it): a post triage is unsure of and a caseless DM reach the on-duty rep once,
    and "Open a case" from the email opens a case whose workflow runs."""
    cloud.emulator.add_user("gio", name="Gio Rossi", followers=80)
    post = cloud.emulator.add_post("gio", UNSURE)
    cloud.emulator.add_user("dana", name="Dana White", followers=40)
    cloud.emulator.add_dm("dana", BRAND, "Flight AA90 was cancelled and I have a funeral to attend")
    cloud.poll()
    cloud.poll_dms()
    [(result, errored)] = cloud.deployed.fire("UnsureDigestFunction")
    assert not errored, result
    reviewer = load_playbook().reviewer or load_playbook().choose_rep("", 4)

    def digests() -> list[Any]:
        return [m for m in cloud.emails_to(reviewer.email) if m["Subject"].startswith("Triage ")]

    [message] = digests()
    text = body_of(message, "plain")
    assert "funeral to attend" in text and "DM(s) with no case" in message["Subject"]
    [open_case] = re.findall(r"Open a case:\s+(\S+)", text)
    assert cloud.click(open_case, method="POST")["statusCode"] == 200
    case_id = f"case-{post.id}"
    wait_until(lambda: cloud.store.cases.get(case_id), what="the case the rep opened")
    cloud.deployed.deliver_stream()
    wait_until(lambda: cloud.store.cases.get(case_id).assigned_at, timeout=40, what="its workflow")
    [(_, errored)] = cloud.deployed.fire("UnsureDigestFunction")
    assert not errored and len(digests()) == 1  # nothing new: no second digest


def test_a_dm_sent_before_the_customer_had_a_case_joins_their_case_and_leaves_the_digest(cloud):
    """A customer DMs first (no case: it waits for the digest), then posts their complaint: the case's
    rep sees the DM in the case email, and the digest does not show it to a second person."""
    cloud.emulator.add_user("dana", name="Dana White", followers=40)
    cloud.emulator.add_dm("dana", BRAND, "Flight AA90 was cancelled and I have a funeral to attend")
    cloud.poll_dms()
    post = cloud.emulator.add_post("dana", "@acmeair you cancelled AA90 and nobody will rebook me. Useless")
    cloud.poll()
    case_id = f"case-{post.id}"
    case = wait_until(
        lambda: (c := cloud.store.cases.get(case_id)) and c.assigned_at and c, timeout=40, what="Assign"
    )
    assert [dm.text for dm in cloud.store.dms.for_case(case_id)] == [
        "Flight AA90 was cancelled and I have a funeral to attend"
    ]
    [email] = wait_until(
        lambda: [m for m in cloud.emails_to(case.assignee_email) if m["X-Turnaround-Case"] == case_id],
        what="the rep's email",
    )
    assert "funeral to attend" in body_of(email, "plain")
    [(result, errored)] = cloud.deployed.fire("UnsureDigestFunction")
    assert not errored, result
    reviewer = load_playbook().reviewer or load_playbook().choose_rep("", 4)
    assert not [m for m in cloud.emails_to(reviewer.email) if m["Subject"].startswith("Triage ")]
