"""The tasks of the per-complaint workflow (infrastructure/case_workflow.asl.json).

Every external effect (reply, DM, retweet, email) is claimed in the outbox before it is made and
completed after, so Step Functions retries and duplicate invocations never repeat it. Public texts
are deterministic per case (variant and reference come from the case id), so if a Lambda dies
between posting and recording, the retry's identical post is refused by X as a duplicate, which
we read as "already posted".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.conversation_store import ConversationStore
from turnaround.adapters.mailer import EmailNotSent, Mailer
from turnaround.adapters.store import MentionStore
from turnaround.adapters.workflow_client import TaskTokenRejected, WorkflowClient
from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.conversation import timeline
from turnaround.emails import escalation_email, ops_alert_email
from turnaround.exceptions import (
    StorageError,
    XCreditsExhausted,
    XDirectMessageRefused,
    XDuplicateContent,
    XReplyNotAllowed,
)
from turnaround.links import ACTIONS, ActionClaim, ActionLinkSigner
from turnaround.models import CaseStatus
from turnaround.observability import logger, metrics
from turnaround.playbook import Person, Playbook
from turnaround.reply_desk import ReplyDesk
from turnaround.reply_emails import thread_headers
from turnaround.triage import sentiment

Clock = Callable[[], datetime]
PROFANITY = re.compile(
    r"\b(f+u+c+k\w*|shit\w*|damn|crap|bitch\w*|bastard\w*|wtf|asshole\w*)\b", re.IGNORECASE
)
POSTING_HOLD = "HOLD#x-billing"


def case_ref(case_id: str) -> str:
    return case_id.rsplit("-", 1)[-1][-6:]


def first_name(author: dict[str, Any]) -> str:
    name = "".join(ch for ch in str(author.get("name") or "") if ch.isprintable()).split()
    candidate = name[0] if name else str(author.get("username", ""))
    return candidate[:20] or "there"


@dataclass
class CaseWorkflow:
    store: MentionStore
    x_for: Callable[[str], XApi]
    mailer: Mailer
    signer: ActionLinkSigner
    playbook: Playbook
    action_url: str
    workflow: WorkflowClient | None = None
    clock: Clock = utc_now
    replies: ReplyDesk | None = None  # set when REPLY_EMAIL_DOMAIN is: emails get a Reply-To address

    # --- helpers -------------------------------------------------------------------------------

    def _case(self, case_id: str) -> dict[str, Any]:
        case = self.store.get_case(case_id)
        if case is None:
            raise StorageError(f"no case {case_id}")
        return case

    def _root(self, case: dict[str, Any]) -> dict[str, Any]:
        mention = self.store.get_mention(str(case["root_tweet_id"]))
        if mention is None:
            raise StorageError(f"case {case['case_id']} has no root mention")
        return mention

    def _brand_user_id(self, handle: str) -> str:
        user_id = self.store.get_checkpoint(handle).user_id
        if user_id is None:
            user_id = self.x_for(handle).me().id
            self.store.set_user_id(handle, user_id)
        return user_id

    def _check_posting_hold(self) -> None:
        hold = self.store._get(POSTING_HOLD, "HOLD")
        if hold:
            raise XCreditsExhausted(f"posting is on hold since {hold.get('since')}: {hold.get('reason')}")

    def _assignee(self, case: dict[str, Any], mention: dict[str, Any]) -> Person:
        if case.get("assignee_email"):
            rep = self.playbook.rep_by_email(str(case["assignee_email"]))
            if rep:
                return rep
        return self.playbook.choose_rep(str(mention["text"]), int(case.get("priority", 4)))

    def _post_once(self, key: str, post: Callable[[], str]) -> tuple[str | None, bool]:
        """Make a public post at most once. Returns (post id or None if unknown, posted_now)."""
        earlier = self.store.outbox_claim(key, claimed_at=self.clock().isoformat())
        if earlier and earlier.get("state") == "DONE":
            return earlier.get("result_id"), False
        try:
            result_id: str | None = post()
        except (XDuplicateContent, XReplyNotAllowed):
            if earlier is None:
                raise
            # A previous attempt posted and died before recording it; X refuses the identical retry.
            logger.warning("earlier attempt already posted", extra={"outbox": key})
            result_id = None
        self.store.outbox_complete(key, result_id=result_id, completed_at=self.clock().isoformat())
        return result_id, True

    # --- tasks ---------------------------------------------------------------------------------

    def acknowledge(self, case_id: str) -> dict[str, Any]:
        case = self._case(case_id)
        mention = self._root(case)
        offline = mention["triage"].get("severity") in ("charged", "complex")
        rep = self._assignee(case, mention)
        self.store.update_case(case_id, assignee_email=rep.email, route="offline" if offline else "public")
        result = {"case_id": case_id, "offline": offline, "rep_email": rep.email, "acknowledged": False}
        if case.get("opted_out"):
            return {**result, "reason": "customer opted out"}
        if not mention.get("mentions_handle"):
            # X only allows replies to posts that mention or quote us: a human decides instead.
            return {**result, "reason": "post does not mention or quote us"}
        self._check_posting_hold()
        author = mention["author"]
        text = self.playbook.render(
            "ack_offline" if offline else "ack_public",
            key=case_id,
            customer=author["username"],
            first_name=first_name(author),
            initials=rep.initials,
            case_ref=case_ref(case_id),
        )
        x = self.x_for(str(case["handle"]))
        deep_link_to = self._brand_user_id(str(case["handle"])) if offline else None
        tweet_id, posted_now = self._post_once(
            f"{case_id}#ack", lambda: x.reply(str(case["root_tweet_id"]), text, dm_deep_link_to=deep_link_to)
        )
        if posted_now:
            now = self.clock()
            self.store.update_case(case_id, ack_tweet_id=tweet_id, first_response_at=now.isoformat())
            metrics.add_metric(name="Acknowledged", unit=MetricUnit.Count, value=1)
            opened = datetime.fromisoformat(str(case["opened_at"]))
            metrics.add_metric(
                name="FirstResponseSeconds",
                unit=MetricUnit.Seconds,
                value=max(0.0, (now - opened).total_seconds()),
            )
        logger.info("acknowledged", extra={"case_id": case_id, "tweet_id": tweet_id, "offline": offline})
        return {**result, "acknowledged": True, "tweet_id": tweet_id}

    def notify(self, case_id: str, task_token: str, role: str, reminder: bool = False) -> dict[str, Any]:
        """Email the rep (or the supervisor) the whole case with signed action links."""
        case = self._case(case_id)
        mention = self._root(case)
        recipient: Person = (
            self.playbook.supervisor if role == "supervisor" else self._assignee(case, mention)
        )
        # Keyed on the task token: a retried invocation of the same wait sends no second email.
        escalation_id = hashlib.sha256(task_token.encode()).hexdigest()[:32]
        now = self.clock()
        expires_at = int((now + timedelta(seconds=self.playbook.sla.action_link_ttl_seconds)).timestamp())
        if self.store.outbox_claim(f"{escalation_id}#email", claimed_at=now.isoformat()):
            return {"escalation_id": escalation_id, "emailed": False}
        self.store.save_escalation(
            escalation_id,
            case_id=case_id,
            task_token=task_token,
            role=role,
            recipient=recipient.email,
            created_at=now.isoformat(),
            expires_at=expires_at,
        )
        links: dict[str, str] = {
            action: f"{self.action_url}?t="
            + self.signer.sign(
                ActionClaim(
                    escalation_id=escalation_id, case_id=case_id, action=action, expires_at=expires_at
                )
            )
            for action in ACTIONS
        }
        message = escalation_email(
            playbook=self.playbook,
            case=case,
            mention=mention,
            thread=self.store.case_mentions(case_id),
            dms=self.store.case_dms(case_id),
            recipient=recipient,
            links=links,
            expires_at=expires_at,
            reminder=reminder,
            supervisor=role == "supervisor",
            **self._reply_context(case, recipient.email),
        )
        try:
            message_id = self.mailer.send(message)
        except EmailNotSent:
            self.store.outbox_release(f"{escalation_id}#email")  # nothing was sent: a retry may send
            raise
        self.store.outbox_complete(f"{escalation_id}#email", result_id=message_id)
        # Links in older emails for this case stop working: only the newest request can be answered.
        fields: dict[str, Any] = {
            "last_notified_at": now.isoformat(),
            "last_notified": recipient.email,
            "current_escalation_id": escalation_id,
        }
        if not case.get("escalated_at"):
            fields["escalated_at"] = now.isoformat()
        if reminder:
            fields["reminders"] = int(case.get("reminders", 0)) + 1
        if role == "supervisor":
            fields["supervisor_escalated_at"] = now.isoformat()
        self.store.update_case(case_id, **fields)
        metrics.add_metric(
            name="SupervisorEscalations"
            if role == "supervisor"
            else ("RepReminders" if reminder else "RepEscalations"),
            unit=MetricUnit.Count,
            value=1,
        )
        logger.info("rep notified", extra={"case_id": case_id, "role": role, "reminder": reminder})
        return {"escalation_id": escalation_id, "emailed": True}

    def _reply_context(self, case: dict[str, Any], recipient: str) -> dict[str, Any]:
        """The case's reply address and thread headers, and its conversation so far (issue 15)."""
        if self.replies is None:
            return {}
        case_id = str(case["case_id"])
        headers = thread_headers(
            case_id, self.replies.signer.domain, reply_to=self.replies.reply_address(case_id, recipient)
        )
        del headers["In-Reply-To"]  # the escalation starts the thread; later emails answer it
        conversation = timeline(
            case,
            self.store.case_mentions(case_id),
            self.store.case_dms(case_id),
            self.replies.conversation.messages(case_id),
        )
        return {"conversation": conversation, "reply_headers": headers}

    def alert_ops(self, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
        """One email to ops per episode: the first case to hit X's billing stop puts the hold in place
        and alerts; the cases after it find the hold and stay quiet."""
        name = str(error.get("Error", "Unknown"))
        now = self.clock()
        episode = now.isoformat()
        if name in ("XCreditsExhausted", "XUsageCapped"):
            hold = self.store._get(POSTING_HOLD, "HOLD")
            if hold is None:
                self.store.update_item_fields(POSTING_HOLD, "HOLD", since=episode, reason=name)
                metrics.add_metric(name="XBudgetExhausted", unit=MetricUnit.Count, value=1)
            else:
                episode = str(hold.get("since"))
        key = (
            f"ops-alert#{name}#{episode}"
            if name in ("XCreditsExhausted", "XUsageCapped")
            else f"{case_id}#alert#{name}"
        )
        if self.store.outbox_claim(key, claimed_at=now.isoformat()):
            return {"alerted": False}
        self.mailer.send(
            ops_alert_email(
                playbook=self.playbook, case_id=case_id, error=name, cause=str(error.get("Cause", ""))
            )
        )
        self.store.outbox_complete(key)
        return {"alerted": True}

    def record_decision(self, case_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        action = str(decision.get("action", "not_resolved"))
        now = self.clock().isoformat()
        if action == "resolved":
            self.store.set_case_status(
                case_id, CaseStatus.FOLLOW_UP, resolved_at=now, resolution_note=decision.get("note")
            )
            metrics.add_metric(name="CasesResolved", unit=MetricUnit.Count, value=1)
        else:
            self.store.update_case(case_id, unresolved_at=now, resolution_note=decision.get("note"))
        return {"action": action}

    def ask_follow_up(self, case_id: str) -> dict[str, Any]:
        """Ask once, by DM if the customer opened one, else as a reply to one of their thread posts."""
        case = self._case(case_id)
        if case.get("opted_out"):
            return {"asked": False, "reason": "customer opted out"}
        mention = self._root(case)
        author, rep = mention["author"], self._assignee(case, mention)
        values = {
            "customer": author["username"],
            "first_name": first_name(author),
            "rep_name": rep.name,
            "initials": rep.initials,
            "case_ref": case_ref(case_id),
        }
        x = self.x_for(str(case["handle"]))
        self._check_posting_hold()
        earlier = self.store.outbox_claim(f"{case_id}#follow_up", claimed_at=self.clock().isoformat())
        if earlier:
            return {
                "asked": earlier.get("state") == "DONE",
                "channel": earlier.get("channel"),
                "repeat": True,
            }
        channel = None
        if case.get("dm_open"):
            try:
                x.send_dm(
                    str(case["customer_id"]), self.playbook.render("follow_up_dm", key=case_id, **values)
                )
                channel = "dm"
            except XDirectMessageRefused:
                logger.info("follow-up DM refused; asking publicly", extra={"case_id": case_id})
        if channel is None:
            target = self._latest_customer_post(case)
            if target is None:
                self.store.outbox_complete(f"{case_id}#follow_up", channel="none")
                return {"asked": False, "reason": "no customer post left to reply to"}
            x.reply(target, self.playbook.render("follow_up_public", key=case_id, **values))
            channel = "public"
        self.store.outbox_complete(f"{case_id}#follow_up", channel=channel)
        self.store.update_case(
            case_id, follow_up_asked_at=self.clock().isoformat(), follow_up_channel=channel
        )
        return {"asked": True, "channel": channel}

    def _latest_customer_post(self, case: dict[str, Any]) -> str | None:
        """A post of the customer's in the case that we have not replied to (one reply per interaction)."""
        by_rep = {
            m.in_reply_to_tweet_id for m in ConversationStore(self.store).messages(str(case["case_id"]))
        }
        own = [
            m
            for m in self.store.case_mentions(str(case["case_id"]))
            if m["author"]["id"] == case["customer_id"]
            and m["tweet_id"] != case["root_tweet_id"]
            and m["tweet_id"] not in by_rep  # a rep's emailed reply answered it already
            and m.get("mentions_handle")
        ]
        return max(own, key=lambda m: int(m["tweet_id"]))["tweet_id"] if own else None

    def await_follow_up(self, case_id: str, task_token: str) -> dict[str, Any]:
        case = self._case(case_id)
        self.store.update_case(case_id, follow_up_token=task_token)
        arrived = case.get("follow_up_post")
        if arrived and self.workflow:  # the post came before we started waiting
            self.workflow.succeed(task_token, dict(arrived))
        return {"waiting": True}

    def amplify(self, case_id: str, post: dict[str, Any]) -> dict[str, Any]:
        case = self._case(case_id)
        score = sentiment(str(post.get("text", "")))
        reason = self._amplify_refusal(case, post, score)
        self.store.update_case(
            case_id,
            follow_up_at=self.clock().isoformat(),
            follow_up_tweet_id=post.get("tweet_id"),
            follow_up_sentiment=score,
        )
        if reason:
            self.store.update_case(case_id, amplification="not amplified: " + reason)
            logger.info("follow-up not amplified", extra={"case_id": case_id, "reason": reason})
            return {"retweeted": False, "reason": reason, "sentiment": score}
        self._check_posting_hold()
        x = self.x_for(str(case["handle"]))
        _, posted_now = self._post_once(f"{case_id}#retweet", lambda: self._retweet(x, str(post["tweet_id"])))
        self.store.update_case(case_id, amplified_at=self.clock().isoformat(), amplification="retweeted")
        if posted_now:
            metrics.add_metric(name="Amplified", unit=MetricUnit.Count, value=1)
        return {"retweeted": True, "sentiment": score}

    @staticmethod
    def _retweet(x: XApi, tweet_id: str) -> str:
        x.retweet(tweet_id)
        return tweet_id

    def _amplify_refusal(self, case: dict[str, Any], post: dict[str, Any], score: float) -> str | None:
        if case.get("opted_out"):
            return "customer opted out"
        if str(post.get("author_id")) != str(case["customer_id"]):
            return "not the customer's post"
        if post.get("is_retweet") or post.get("quoted_tweet_id"):
            return "not in the customer's own words"
        if PROFANITY.search(str(post.get("text", ""))):
            return "contains profanity"
        if score < self.playbook.follow_up.amplify_min_sentiment:
            return f"sentiment {score:+.2f} below {self.playbook.follow_up.amplify_min_sentiment:+.2f}"
        return None

    def close(self, case_id: str, outcome: str) -> dict[str, Any]:
        case = self._case(case_id)
        now = self.clock()
        self.store.set_case_status(case_id, CaseStatus.CLOSED, closed_at=now.isoformat(), outcome=outcome)
        opened = datetime.fromisoformat(str(case["opened_at"]))
        metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
        if case.get("resolved_at"):
            resolved = datetime.fromisoformat(str(case["resolved_at"]))
            metrics.add_metric(
                name="ResolutionSeconds", unit=MetricUnit.Seconds, value=(resolved - opened).total_seconds()
            )
        if case.get("follow_up_at"):
            metrics.add_metric(name="FollowUpsReceived", unit=MetricUnit.Count, value=1)
        logger.info("case closed", extra={"case_id": case_id, "outcome": outcome})
        return {"case_id": case_id, "outcome": outcome}


def customer_post_listener(
    store: MentionStore, playbook: Playbook, workflow: WorkflowClient
) -> Callable[[Any], None]:
    """What the poller does with each stored mention beyond storing it: honour opt-outs at once, and
    hand a resolved customer's next post to the workflow waiting for it."""

    def on_stored(mention: Any) -> None:
        author_id = mention.author.id
        if playbook.is_opt_out(mention.text):
            for case in (
                store.find_open_case_for_customer(author_id),
                store.find_case_awaiting_follow_up(author_id),
            ):
                if case:
                    store.update_case(
                        str(case["case_id"]), opted_out=True, opted_out_at=mention.ingested_at.isoformat()
                    )
                    metrics.add_metric(name="OptOuts", unit=MetricUnit.Count, value=1)
            return
        case = store.find_case_awaiting_follow_up(author_id)
        if case is None or case.get("follow_up_post") or case.get("opted_out"):
            return
        post = {
            "tweet_id": mention.tweet_id,
            "text": mention.text,
            "author_id": author_id,
            "quoted_tweet_id": mention.quoted_tweet_id,
            "is_retweet": False,
        }
        store.update_case(str(case["case_id"]), follow_up_post=post)
        token = case.get("follow_up_token")
        if token:
            try:
                workflow.succeed(str(token), post)
            except TaskTokenRejected:
                logger.info("follow-up window already closed", extra={"case_id": case["case_id"]})

    return on_stored
