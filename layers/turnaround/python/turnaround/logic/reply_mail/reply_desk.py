"""A rep's emailed reply becomes a DM or a public reply on X, and the customer's DMs reach the rep's
mailbox in the case's email thread.

Order of checks for an inbound email (each outcome is recorded on the case when the case is known,
and nothing the rep wrote is lost: refusals quote the text back to the rep):
  1. the reply address (signature, then expiry) — before anything in the message is parsed;
  2. size; then bounces and automatic replies (never posted, never answered: no mail loops);
  3. SES's verdicts: virus and spam not FAIL, and DMARC PASS, or SPF and DKIM both PASS when the
     sender's domain publishes no DMARC policy;
  4. the case is open and the sender is its current rep or the supervisor;
  5. text left after quotes and signature; opt-out; X billing hold;
  6. channel: DM if the customer has DMed us, else a public reply to their latest post that
     mentions us and that we have not replied to (X: replies only where summoned; one reply per
     post), within X's weighted 280, and showing none of the customer's personal details
     (``turnaround/personal_details.py``: a DM may carry them, a public post never);
  7. never before the automated ack: the reply pre-empts the ack's outbox claim or follows the ack
     (``_after_the_ack``), so the customer never gets our canned "we're on it" after the rep's answer.
Posting goes through the effects module (``logic/effects.py``) under a key derived from the email's
Message-ID, so a redelivered email or a retried Lambda never posts twice, and a transient X error
is retried, not lost.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict

from turnaround.adapters.mailer import Mailer
from turnaround.clock import utc_now
from turnaround.dal.conversation_store import ConversationStore
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import (
    AckBeingPosted,
    XApiError,
    XApiUnavailable,
    XBlockedByCustomer,
    XCreditsExhausted,
    XDirectMessageRefused,
    XDuplicateContent,
    XPostDeleted,
    XRateLimited,
    XReplyNotAllowed,
    XUsageCapped,
)
from turnaround.logic.effects import Effects, ack_effect_key, find_our_dm, nothing_went_out
from turnaround.logic.incidents import count_towards_incident, list_in_incident, topic_of
from turnaround.logic.reply_mail.inbound_mail import InboundMail, only_a_greeting
from turnaround.logic.reply_mail.reply_address import (
    ReplyAddressExpired,
    ReplyAddressInvalid,
    ReplyAddressSigner,
)
from turnaround.logic.reply_mail.reply_emails import (
    case_subject,
    customer_dm_email,
    customer_post_email,
    pile_on_email,
    thread_email,
    thread_headers,
)
from turnaround.logic.reply_mail.tweet_length import MAX_WEIGHTED_LENGTH, weighted_length
from turnaround.logic.replyable import replyable_posts
from turnaround.models.case import Case, CaseMessage, CaseStatus, Channel, StoredDm
from turnaround.models.mention import Mention
from turnaround.models.outbox import OutboxClaim
from turnaround.models.playbook import Playbook
from turnaround.observability import logger, metrics
from turnaround.personal_details import NUMBERS, PersonalDetail, describe
from turnaround.x_urls import post_url

if TYPE_CHECKING:
    from turnaround.adapters.x_api import XApi  # only the inbound-mail function posts to X

MAX_DM_LENGTH = 10_000
IN_DOUBT_HEADLINE = (
    "We could not confirm that this went out to X (an earlier attempt failed without an answer), so it "
    "was not sent again. Check the customer's DMs on X before you write again:"
)
Verdict = Literal["PASS", "FAIL", "GRAY", "PROCESSING_FAILED", "DISABLED"]
# How long a rep's reply waits, in seconds, for an ack X is answering right now (under a second,
# usually) before it leaves the rest to Lambda's retries (AckBeingPosted).
ACK_SETTLE_WAITS = (0.5, 1.0, 2.0)


class SesVerdicts(BaseModel):
    """What SES decided about the inbound message (the receipt in the SES Lambda event)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    spf: Verdict = "GRAY"
    dkim: Verdict = "GRAY"
    dmarc: Verdict = "GRAY"
    spam: Verdict = "GRAY"
    virus: Verdict = "GRAY"

    def refusal(self) -> str | None:
        if self.virus == "FAIL":
            return "SES found a virus"
        if self.spam == "FAIL":
            return "SES classified it as spam"
        if self.dmarc == "PASS":
            return None
        if self.dmarc == "FAIL":
            return "DMARC failed (the sender's domain does not vouch for it)"
        if self.spf == "PASS" and self.dkim == "PASS":
            return None  # no DMARC policy published: require both SPF and DKIM
        return f"sender not authenticated (SPF {self.spf}, DKIM {self.dkim}, DMARC {self.dmarc})"


class ReplyOutcome(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: Literal[
        "posted", "duplicate", "refused", "ignored", "unauthenticated", "invalid_address", "expired_address"
    ]
    case_id: str | None = None
    channel: Channel | None = None
    detail: str = ""
    x_id: str | None = None


def mail_key(message_id: str, fallback: str) -> str:
    """Deterministic per inbound email: the same email redelivered gets the same key."""
    return hashlib.sha256((message_id or fallback).encode()).hexdigest()[:24]


@dataclass
class ReplyDesk:
    store: Repositories
    x_for: Callable[[str], XApi]
    mailer: Mailer
    signer: ReplyAddressSigner
    playbook: Playbook
    address_ttl: timedelta = timedelta(days=30)
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep

    @property
    def conversation(self) -> ConversationStore:
        return self.store.conversation

    @property
    def our_addresses(self) -> tuple[str, str]:
        """What a quote of our own email names, in any mail client's language: our sender address and
        the reply domain (a rep's reply never reaches the customer with our email quoted in it)."""
        return str(self.playbook.sender_email), f"@{self.signer.domain}"

    # --- addresses and threading ----------------------------------------------------------------

    def reply_address(self, case_id: str, recipient: str) -> str:
        expires = int((self.clock() + self.address_ttl).timestamp())
        return self.signer.address(case_id, recipient=recipient, expires_at=expires)

    def _headers(self, case_id: str, recipient: str, in_reply_to: str | None = None) -> dict[str, str]:
        return thread_headers(
            case_id,
            self.signer.domain,
            reply_to=self.reply_address(case_id, recipient),
            in_reply_to=in_reply_to,
        )

    def _subject(self, case: Case) -> str:
        return "Re: " + case_subject(case)

    @property
    def effects(self) -> Effects:
        return Effects(self.store, self.clock)

    def _send_once(self, key: str, message: EmailMessage) -> bool:
        """At most once, like every email (the effects module): a retry after a claim does not resend."""
        message["X-Turnaround-Effect"] = key
        return self.effects.at_most_once(key, lambda: {"result_id": self.mailer.send(message)}).made_now

    # --- customer DMs to the rep's mailbox -----------------------------------------------------

    def forward_customer_dm(self, image: dict[str, Any]) -> bool:
        """Email one stored customer DM (its item, as the table's stream delivers it) to the case's rep,
        in the case's thread. False: not forwarded (no case, not yet escalated — the escalation email
        shows it — or closed)."""
        dm = StoredDm.model_validate(image)
        case = self.store.cases.get(dm.case_id) if dm.case_id else None
        if not case or case.status == CaseStatus.CLOSED:
            return False
        if case.route != "offline" and not case.dm_open:
            return False
        return self._forward_to_rep(
            case,
            f"{case.case_id}#dm_mail#{dm.event_id}",
            "CustomerDmsEmailed",
            lambda common: customer_dm_email(text=dm.text, at=dm.created_at, **common),
        )

    def forward_customer_post(self, image: dict[str, Any]) -> bool:
        """Email the case's rep a post the customer added to their open case's thread ("still
        waiting, 2 hours now"), as their DMs are: the rep works from email. Others' posts in the
        thread (a pile-on's "same here") are not forwarded one by one (the next case email lists
        them) but counted: ``_pile_on``. False: not forwarded (their first post, not yet escalated
        — the escalation email shows it — or the case is no longer open)."""
        mention = Mention.model_validate(image)
        if not mention.case_id or mention.case_id == Case.id_opened_by(mention.tweet_id):
            return False  # the complaint that opened the case: its escalation email shows it (no read)
        case = self.store.cases.get(mention.case_id)
        if not case or case.status != CaseStatus.OPEN:
            return False
        if mention.author.id != case.customer_id:
            self._pile_on_counts(case, mention)
            return self._pile_on(case)
        if mention.tweet_id == case.root_tweet_id:
            return False
        shown = self.playbook.personal_details_in(mention.text, customers_own=True)
        return self._forward_to_rep(
            case,
            f"{case.case_id}#post_mail#{mention.tweet_id}",
            "CustomerPostsEmailed",
            lambda common: customer_post_email(
                text=mention.text,
                url=post_url(case.customer_username, mention.tweet_id),
                at=mention.created_at,
                edited=mention.edit_of is not None,
                sensitive=mention.triage.sensitive,
                details_shown=describe(shown) if shown else None,
                **common,
            ),
        )

    def _pile_on_counts(self, case: Case, mention: Mention) -> None:
        """The person joining the case's thread counts towards its topic's incident (once each, as a
        complaint of their own would; praise and spam do not): a pile-on of "same here" is a spike,
        though it is one case. When the pile-on opens the incident, or finds one, the case joins it:
        the supervisor's digest (sent by the schedule) lists it, a rep's missed SLA waits in that
        digest, and new complaints on the topic get the incident's ack."""
        settings = self.playbook.incidents
        if settings is None or mention.triage.category in ("praise", "spam"):
            return
        root = None
        topic = case.topic
        if case.assigned_at is None:
            # Not assigned yet (its post and the pile-on came in one poll): its topic as Assign will find it.
            root = self.store.mentions.get(case.root_tweet_id)
            topic = topic_of(settings, root) if root else None
        if topic is None:
            return
        now = self.clock()
        arrived = min(mention.ingested_at, now)
        incident = count_towards_incident(
            self.store,
            settings,
            handle=case.handle,
            topic=topic,
            counted=f"{case.case_id}#pile-on#{mention.author.id}",
            arrived=arrived,
            noticed=now,
            pile_on_under=case.customer_username,
        )
        if incident is None or incident.incident_id == case.incident_id:
            return
        root = root or self.store.mentions.get(case.root_tweet_id)
        # Listed first, then marked on the case: a retry after a crash between them lists it again.
        list_in_incident(
            self.store, self.playbook, incident.incident_id, case, root, joined_at=arrived, now=now
        )
        self.store.cases.joined_incident(case.case_id, incident.incident_id)
        logger.info(
            "pile-on case joined incident", extra={"case_id": case.case_id, "incident": incident.incident_id}
        )

    def _pile_on(self, case: Case) -> bool:
        """Another person's post joined the case's thread ("same here"). When the number of people
        other than the customer reaches one of the playbook's ``pile_on_alerts``, the rep hears of
        it at once rather than at the next case email: a thread that draws a crowd is public and
        growing. Each count is emailed once (the highest reached, if a batch passed several)."""
        alerts = self.playbook.pile_on_alerts
        # The case counts every post that joined it: a thread too small for the first alert is not read.
        if not alerts or case.mention_count - 1 < alerts[0]:
            return False
        posts = [m for m in self.store.mentions.for_case(case.case_id) if m.author.id != case.customer_id]
        people = len({m.author.id for m in posts})
        reached = [n for n in alerts if people >= n]
        if not reached:
            return False
        supervisor = [self.playbook.supervisor.email] if len(reached) > 1 else []
        newest = sorted(posts, key=lambda m: int(m.tweet_id), reverse=True)  # X's ids grow with time
        return self._forward_to_rep(
            case,
            f"{case.case_id}#pile_on#{reached[-1]}",
            "PileOnsEmailed",
            lambda common: pile_on_email(
                people=people,
                posts=[(m.author.username, m.text, post_url(m.author.username, m.tweet_id)) for m in newest],
                supervisor=supervisor,
                **common,
            ),
        )

    def _forward_to_rep(
        self, case: Case, key: str, metric: str, build: Callable[[dict[str, Any]], EmailMessage]
    ) -> bool:
        """Once, to the case's rep in its thread, and to whoever was emailed about it last if that is
        someone else (the supervisor, once the SLA passed to them): the rep may still answer, so
        they must see what the customer says. Not before the escalation email (which shows what
        came before it)."""
        recipient = case.assignee_email or case.last_notified or ""
        if not case.escalated_at or not recipient:
            return False
        also = [case.last_notified] if case.last_notified and case.last_notified != recipient else []
        message = build(
            {
                "playbook": self.playbook,
                "to": recipient,
                "copy": also,
                "subject": self._subject(case),
                "username": case.customer_username,
                "headers": self._headers(case.case_id, recipient),
            }
        )
        sent = self._send_once(key, message)
        if sent:
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        return sent

    # --- rep replies by email --------------------------------------------------------------------

    def handle(
        self, mail: InboundMail, *, verdicts: SesVerdicts, key: str, too_large: int = 0
    ) -> ReplyOutcome:
        """``mail`` may carry only headers when ``too_large`` (its size in bytes) is set."""
        address = self.signer.find(mail.recipients)
        try:
            if address is None:
                raise ReplyAddressInvalid("not sent to a case reply address")
            claim = self.signer.verify(address, now=self.clock())
        except (ReplyAddressInvalid, ReplyAddressExpired) as exc:
            return self._bad_address(mail, verdicts, key, exc)
        case_id = claim.case_id
        case = self.store.cases.get(case_id)
        if case is None:
            return self._bad_address(mail, verdicts, key, ReplyAddressInvalid(f"no case {case_id}"))
        if too_large:
            return self._refuse(
                case, mail, key, verdicts,
                f"your email is {too_large / 1_048_576:.1f} MB, over the {self.max_mb} MB we read",
                "Send the reply again without attachments or long quoted history.",
            )  # fmt: skip
        if mail.bounce:
            return self._ignore(case, mail, key, "a delivery failure report (bounce)")
        if mail.auto_reply:
            waiting_on_rep = case.status == CaseStatus.OPEN and case.supervisor_escalated_at is None
            if (
                waiting_on_rep
                and mail.sender == (case.assignee_email or "").lower()
                and not verdicts.refusal()
            ):
                self._assignee_away(case, mail)
            return self._ignore(case, mail, key, f"an automatic reply ({mail.auto_reply})")
        refusal = verdicts.refusal()
        if refusal:
            return self._unauthenticated(case, mail, key, refusal)
        if case.status == CaseStatus.CLOSED:
            return self._refuse(case, mail, key, verdicts, "the case is closed")
        allowed = {(case.assignee_email or "").lower(), str(self.playbook.supervisor.email).lower()}
        if mail.sender not in allowed:
            return self._refuse(
                case, mail, key, verdicts,
                "only the case's current rep or the supervisor can write to the customer",
            )  # fmt: skip
        if mail.copied:
            return self._refuse(
                case, mail, key, verdicts,
                f"it was also addressed to {', '.join(mail.copied)}, so we read it as a note between "
                "colleagues, not a message to the customer",
                "To write to the customer, reply to this email's reply address only (nobody else in To "
                "or Cc).",
            )  # fmt: skip
        if not mail.text.strip():
            return self._refuse(case, mail, key, verdicts, "there was no new text above the quoted email")
        if only_a_greeting(mail.text):
            return self._refuse(
                case, mail, key, verdicts,
                f'only "{mail.text.strip()}" was left once the quoted email and signature were taken out',
                "Write the whole reply above the quoted email and send it again.",
            )  # fmt: skip
        if case.opted_out:
            return self._refuse(case, mail, key, verdicts, "the customer asked us to stop contacting them")
        if self.effects.posting_hold():
            return self._refuse(
                case,
                mail,
                key,
                verdicts,
                "posting to X is on hold (X credits or usage cap); ops has been told",
            )
        if case.dm_open and not case.dm_refused:  # X refused us a DM to them: public from then on
            return self._post_dm(case, mail, key, verdicts)
        return self._post_public(case, mail, key, verdicts)

    max_mb = 10

    def _post_dm(self, case: Case, mail: InboundMail, key: str, verdicts: SesVerdicts) -> ReplyOutcome:
        if len(mail.text) > MAX_DM_LENGTH:
            return self._refuse(
                case,
                mail,
                key,
                verdicts,
                f"a DM holds at most {MAX_DM_LENGTH:,} characters ({len(mail.text):,})",
            )
        self._after_the_ack(case, key)
        x = self.x_for(case.handle)
        customer = case.customer_id

        def send() -> str:
            return x.send_dm(customer, mail.text)

        def find_earlier(claim: OutboxClaim) -> dict[str, Any] | None:
            brand = self.store.checkpoints.get(case.handle).user_id or x.me().id
            return find_our_dm(x, brand, mail.text)(claim)

        return self._post(case, mail, key, verdicts, "x_dm", send, find_earlier)

    def _post_public(self, case: Case, mail: InboundMail, key: str, verdicts: SesVerdicts) -> ReplyOutcome:
        details = self.playbook.personal_details_in(mail.text)
        if details:
            # Once public, a post is copied and screenshotted: no later deletion takes it back.
            metrics.add_metric(name="RepRepliesWithPersonalDetails", unit=MetricUnit.Count, value=1)
            return self._refuse(
                case, mail, key, verdicts,
                f"it would show the customer's personal details in public: {describe(details)}",
                self._private_advice(case, details),
            )  # fmt: skip
        # Under our own post X still names the customer: a reply's leading mentions (everyone the
        # parent named, and the ack named them) are added by X and do not count towards the length.
        text = mail.text
        length = weighted_length(text)
        if length > MAX_WEIGHTED_LENGTH:
            return self._refuse(
                case, mail, key, verdicts,
                f"it is {length} characters as X counts them (links 23, CJK and emoji 2); a post holds "
                f"{MAX_WEIGHTED_LENGTH}",
                "Shorten it and reply again, or ask the customer to DM us for a longer answer.",
            )  # fmt: skip
        ack = self._after_the_ack(case, key)  # where we reply depends on whether the ack went out
        target = self._reply_target(case, ack)
        if target is None:
            return self._refuse(
                case, mail, key, verdicts,
                "the customer has no post that mentions us and that we have not already answered, and "
                "we have no post in their thread to continue; X allows replies only where we are "
                "mentioned (once per post) or under our own posts",
                "Wait for the customer to write again (their next post or DM comes to this thread).",
            )  # fmt: skip
        tweet_id, ours = target
        x = self.x_for(case.handle)
        return self._post(
            case, mail, key, verdicts, "x_public", lambda: x.reply(tweet_id, text), None, tweet_id,
            under_our_post=ours,
        )  # fmt: skip

    def _after_the_ack(self, case: Case, key: str) -> OutboxClaim | None:
        """Our reply and the automated ack share the ack's claim, so the rep's reply never comes
        before a canned "we're on it": it pre-empts an ack not yet claimed (which then never posts),
        or follows one already made. An ack being posted right now is waited for, briefly, then
        left to Lambda's retries (AckBeingPosted). Returns the ack's claim: None when pre-empted now."""
        ack_key, by = ack_effect_key(case.case_id), self._mail_effect(case.case_id, key)
        for wait in (*ACK_SETTLE_WAITS, None):
            ack = self.effects.pre_empt(ack_key, by=by)
            if ack is None or ack.state == "DONE":
                return ack
            latest = self.store.cases.get(case.case_id)
            if latest is not None and latest.ack_error is not None:
                return ack  # the workflow gave up on the ack (it may have posted): it never tries again
            if wait is None:
                break
            self.sleep(wait)
        raise AckBeingPosted(f"the automated ack of {case.case_id} is being posted; this reply follows it")

    @staticmethod
    def _mail_effect(case_id: str, key: str) -> str:
        return f"{case_id}#mail#{key}"

    @staticmethod
    def _private_advice(case: Case, details: list[PersonalDetail]) -> str:
        """How the rep gets a personal detail to the customer: a reply goes as a DM once the
        customer has DMed us (we never open a DM conversation ourselves). A number read as a phone
        or card number may be an order or ticket number (ten digits read as a US phone number):
        the rep, who knows, writes it as "#8339201847", which is not read."""
        remove = (
            'Or remove the detail ("your booking", not its reference) and reply again to post it publicly.'
        )
        if any(detail.kind in NUMBERS for detail in details):
            remove += (
                " If a number read as a phone or card number is an order or ticket number, write it with "
                'a # in front ("order #8339201847") and reply again: a #number is not read.'
            )
        if case.dm_refused:  # asking them to DM us would lead nowhere: X refuses us a DM to them
            return "Their DMs are closed to us: reach them by email or phone. " + remove
        if case.route == "offline" and case.ack_tweet_id:  # the offline ack (its DM invite) went out
            return (
                "We invited the customer to DM us: once they do, their DM reaches you in this thread "
                "and your reply to it goes to them privately as a DM. " + remove
            )
        return (
            "To send it privately, ask the customer (in a reply without the detail) to DM us: once "
            "they do, your replies in this thread go to them as DMs. " + remove
        )

    def _reply_target(self, case: Case, ack: OutboxClaim | None) -> tuple[str, bool] | None:
        """Where a rep's public reply goes: the customer's latest post that mentions us and that we
        have not answered; else under our latest post in their thread (the ack, or a rep's earlier
        reply), which X allows and which keeps the ack's promise to "update you here". With whether
        the target is ours. ``ack``: the ack's claim (made, even if the case does not say so yet)."""
        messages = self.conversation.messages(case.case_id)
        ack_made = ack is not None and ack.state == "DONE" and not ack.pre_empted_by
        ack_tweet_id = case.ack_tweet_id or (ack.result_id if ack is not None and ack_made else None)
        own = [
            int(m.tweet_id)
            for m in replyable_posts(
                self.store.mentions.for_case(case.case_id),
                messages,
                customer_id=case.customer_id,
                answered=[case.root_tweet_id] if ack_tweet_id or ack_made else [],
            )
        ]
        if own:
            return str(max(own)), False
        ours = [int(ack_tweet_id)] if ack_tweet_id else []
        ours += [
            int(m.x_id) for m in messages if m.channel == "x_public" and m.outcome == "posted" and m.x_id
        ]
        return (str(max(ours)), True) if ours else None

    def _post(
        self,
        case: Case,
        mail: InboundMail,
        key: str,
        verdicts: SesVerdicts,
        channel: Channel,
        act: Callable[[], str],
        find_earlier: Callable[[OutboxClaim], dict[str, Any] | None] | None,
        in_reply_to_tweet_id: str | None = None,
        *,
        under_our_post: bool = False,
    ) -> ReplyOutcome:
        """Through the effects module: a public reply is posted once (a retry after a crash reads X's
        duplicate refusal as posted), a DM at most once (a retry looks for it on X first)."""
        case_id = case.case_id
        effect = self._mail_effect(case_id, key)
        first_attempt = not self.effects.tried(effect)
        where = (
            f"as a DM to @{case.customer_username}"
            if channel == "x_dm"
            else f"as a public reply in @{case.customer_username}'s thread, under our post "
            + post_url(case.handle, str(in_reply_to_tweet_id))
            if under_our_post
            else f"as a public reply to @{case.customer_username}'s post "
            + post_url(case.customer_username, str(in_reply_to_tweet_id))
        )
        headline = f"Sent to X {where}:"
        record = {"outcome": "posted", "headline": headline}
        try:
            if channel == "x_dm":
                once = self.effects.at_most_once(
                    effect, lambda: {"result_id": act(), **record}, channel=channel, find_earlier=find_earlier
                )
            else:
                once = self.effects.post(effect, act, channel=channel, record=record)
        except (XRateLimited, XApiUnavailable) as exc:
            if first_attempt and nothing_went_out(exc):
                self._free_the_ack(case_id, effect)
            raise  # transient: the Lambda's retry tries again (the claim was released if nothing went out)
        except XApiError as exc:
            if first_attempt:
                self._free_the_ack(case_id, effect)
            # A customer's post X no longer shows is passed over by later replies (replyable_posts).
            gone = in_reply_to_tweet_id if isinstance(exc, XPostDeleted) and not under_our_post else None
            return self._x_refused(case, mail, key, verdicts, effect, exc, gone=gone)
        earlier = once.recorded
        if once.in_doubt:
            self._tell(case, mail, key, "in_doubt", IN_DOUBT_HEADLINE, self._notes(mail))
            return ReplyOutcome(status="duplicate", case_id=case_id, detail="in doubt")
        x_id = earlier.result_id
        if not once.made_now:
            if earlier.outcome == "posted":  # died before recording or confirming? (each at most once)
                self._record(
                    case_id, mail, key, channel, "posted", x_id=x_id, in_reply_to=in_reply_to_tweet_id,
                    at=earlier.completed_at,
                )  # fmt: skip
                self._tell(case, mail, key, "confirm", str(earlier.headline), self._notes(mail))
            return ReplyOutcome(status="duplicate", case_id=case_id, detail=earlier.outcome or "")
        self._record(case_id, mail, key, channel, "posted", x_id=x_id, in_reply_to=in_reply_to_tweet_id)
        self._tell(case, mail, key, "confirm", headline, self._notes(mail))
        metrics.add_metric(name="RepRepliesPosted", unit=MetricUnit.Count, value=1)
        logger.info("rep reply posted", extra={"case_id": case_id, "channel": channel, "x_id": x_id})
        return ReplyOutcome(status="posted", case_id=case_id, channel=channel, x_id=x_id)

    def _free_the_ack(self, case_id: str, effect: str) -> None:
        """Nothing of ours went out: the ack this reply pre-empted may go after all (a retry of this
        reply pre-empts it again, or follows it)."""
        self.effects.undo_pre_emption(ack_effect_key(case_id), by=effect)

    def _x_refused(
        self,
        case: Case,
        mail: InboundMail,
        key: str,
        verdicts: SesVerdicts,
        effect: str,
        exc: XApiError,
        *,
        gone: str | None = None,
    ) -> ReplyOutcome:
        advice = ""
        if isinstance(exc, XDirectMessageRefused):
            reason = "X refused the DM: the customer's DMs are closed to us"
            # Every later reply would be refused the same way: the case's replies go public now.
            self.store.cases.dm_refused(case.case_id, reason=reason)
            advice = (
                "Your next reply in this thread goes to them publicly on X, so leave out anything "
                "personal; or reach them by email or phone."
            )
        elif isinstance(exc, XPostDeleted):
            reason = "X refused the reply: the customer deleted the post (or it is no longer visible to us)"
            if gone:
                advice = (
                    "Reply again to send it: it goes to their post before that one, or under our "
                    "latest post in their thread."
                )
        elif isinstance(exc, XBlockedByCustomer):
            reason = (
                "X refused the reply: the customer has blocked our account, so nothing we post reaches them"
            )
        elif isinstance(exc, XReplyNotAllowed):
            reason = "X refused the reply: we may reply only to posts that mention us, once per post"
        elif isinstance(exc, XDuplicateContent):
            reason = "X refused it as a duplicate of one of our earlier posts"
        elif isinstance(exc, XCreditsExhausted | XUsageCapped):
            reason = "X stopped our posting (credits exhausted or usage cap reached)"
        else:
            reason = f"X refused it ({type(exc).__name__}: {str(exc)[:200]})"
        self.effects.refused(effect, f"refused: {reason}")
        return self._refuse(case, mail, key, verdicts, reason, advice, in_reply_to=gone)

    # --- outcomes that post nothing --------------------------------------------------------------

    @staticmethod
    def _notes(mail: InboundMail) -> list[str]:
        notes = []
        if mail.html_only:
            notes.append("Your email had no plain-text part; the text above is what we read from its HTML.")
        if mail.attachments:
            notes.append(
                "Attachments are not forwarded to X (not sent): "
                + ", ".join(a[:80] for a in mail.attachments[:10])
            )
        return notes

    def _record(
        self,
        case_id: str,
        mail: InboundMail,
        key: str,
        channel: Channel,
        outcome: str,
        *,
        x_id: str | None = None,
        in_reply_to: str | None = None,
        at: datetime | None = None,
    ) -> None:
        author = f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender
        if outcome == "posted":
            self.store.cases.rep_replied(case_id, at=at or self.clock())
        self.conversation.record(
            CaseMessage(
                case_id=case_id,
                key=key,
                at=at or self.clock(),
                author=author[:200],
                channel=channel,
                text=mail.text[:MAX_DM_LENGTH],
                outcome=outcome[:300],
                x_id=x_id,
                in_reply_to_tweet_id=in_reply_to,
                attachments=mail.attachments[:10],
            )
        )

    def _tell(
        self,
        case: Case,
        mail: InboundMail,
        key: str,
        kind: str,
        headline: str,
        notes: list[str],
        *,
        to: str | None = None,
    ) -> None:
        recipient = to or mail.sender
        message = thread_email(
            playbook=self.playbook,
            to=recipient,
            subject=self._subject(case),
            headline=headline,
            text=mail.text,
            notes=notes,
            headers=self._headers(case.case_id, recipient, in_reply_to=mail.message_id),
        )
        self._send_once(f"{case.case_id}#mail#{key}#{kind}", message)

    def _assignee_away(self, case: Case, mail: InboundMail) -> None:
        """The rep's mailbox answered their case email by itself (out of office): the supervisor
        hears it now, once per case, not when the SLA runs out."""
        supervisor = str(self.playbook.supervisor.email)
        if supervisor.lower() == mail.sender:
            return
        headline = (
            f"{mail.sender}'s mailbox answered the email about this case automatically "
            f"({mail.auto_reply}): they may be away. The case waits on them until its SLA runs out, "
            "then comes to you; ask a colleague to take it now if they are away."
        )
        self._tell(case, mail, "assignee-away", "supervisor", headline, [], to=supervisor)

    def _staff(self, email: str) -> bool:
        return email == str(self.playbook.supervisor.email).lower() or any(
            email == str(rep.email).lower() for rep in self.playbook.roster
        )

    def _refuse(
        self,
        case: Case,
        mail: InboundMail,
        key: str,
        verdicts: SesVerdicts,
        reason: str,
        advice: str = "",
        *,
        in_reply_to: str | None = None,
    ) -> ReplyOutcome:
        case_id = case.case_id
        self._record(case_id, mail, key, "email", f"not posted: {reason}", in_reply_to=in_reply_to)
        # Answer only authenticated colleagues: never backscatter to a forged or outside sender.
        if verdicts.refusal() is None and self._staff(mail.sender):
            notes = [advice] if advice else []
            if mail.text:
                notes.append("Your text is kept above and in the case; nothing was lost.")
            self._tell(case, mail, key, "refused", f"Nothing was posted to X: {reason}.", notes)
        metrics.add_metric(name="RepRepliesRefused", unit=MetricUnit.Count, value=1)
        logger.info("rep reply refused", extra={"case_id": case_id, "reason": reason})
        return ReplyOutcome(status="refused", case_id=case_id, detail=reason)

    def _ignore(self, case: Case, mail: InboundMail, key: str, why: str) -> ReplyOutcome:
        self._record(case.case_id, mail, key, "email", f"ignored: {why}")
        metrics.add_metric(name="InboundMailIgnored", unit=MetricUnit.Count, value=1)
        logger.info("inbound mail ignored", extra={"case_id": case.case_id, "why": why})
        return ReplyOutcome(status="ignored", case_id=case.case_id, detail=why)

    def _unauthenticated(self, case: Case, mail: InboundMail, key: str, why: str) -> ReplyOutcome:
        """Tell the case's rep at their own address (never the claimed sender, who may be forged)."""
        self._record(case.case_id, mail, key, "email", f"not posted: {why}")
        rep = str(case.assignee_email or self.playbook.supervisor.email)
        self._tell(
            case,
            mail,
            key,
            "unauthenticated",
            f"An email to this case claiming to be from {mail.sender or 'an unknown sender'} was not "
            f"posted: {why}.",
            ["If you sent it, your mail system's SPF/DKIM/DMARC setup needs attention; "
             "ask IT, then reply again."],
            to=rep,
        )  # fmt: skip
        metrics.add_metric(name="InboundMailUnauthenticated", unit=MetricUnit.Count, value=1)
        return ReplyOutcome(status="unauthenticated", case_id=case.case_id, detail=why)

    def _bad_address(
        self, mail: InboundMail, verdicts: SesVerdicts, key: str, error: Exception
    ) -> ReplyOutcome:
        expired = isinstance(error, ReplyAddressExpired)
        metrics.add_metric(name="InboundMailBadAddress", unit=MetricUnit.Count, value=1)
        logger.warning("inbound mail to a bad reply address", extra={"error": str(error), "key": key})
        if verdicts.refusal() is None and self._staff(mail.sender) and not (mail.bounce or mail.auto_reply):
            notes = ["Reply to the newest email about the case instead; nothing was posted or lost."]
            headline = "This reply address has expired." if expired else "This is not a valid reply address."
            message = thread_email(
                playbook=self.playbook,
                to=mail.sender,
                subject="Re: " + (mail.subject or "your reply"),
                headline=f"{headline} Nothing was posted to X.",
                text=mail.text,
                notes=notes,
                headers={"In-Reply-To": mail.message_id} if mail.message_id.startswith("<") else {},
            )
            self._send_once(f"inbound#{key}#bad_address", message)
        return ReplyOutcome(
            status="expired_address" if expired else "invalid_address", detail=str(error)[:200]
        )
