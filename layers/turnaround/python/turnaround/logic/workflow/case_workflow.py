"""The tasks of the per-complaint workflow (infrastructure/case_workflow.asl.yaml).

Every external effect (reply, DM, retweet, email) goes through ``effects.py`` (claim, act,
record), so Step Functions retries and duplicate invocations never repeat it and never lose it.
Public texts are deterministic per case (variant and reference come from the case id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.mailer import Mailer
from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.dal.store import MentionStore
from turnaround.exceptions import StorageError, TaskTokenRejected, XDirectMessageRefused
from turnaround.logic.rep_actions.links import ACTIONS, ActionClaim, ActionLinkSigner
from turnaround.logic.triage import sentiment
from turnaround.logic.workflow.effects import Effects
from turnaround.logic.workflow.emails import escalation_email, ops_alert_email
from turnaround.models.mention import CaseStatus
from turnaround.models.playbook import Person, Playbook
from turnaround.observability import logger, metrics

Clock = Callable[[], datetime]
PROFANITY = re.compile(
    r"\b(f+u+c+k\w*|shit\w*|damn|crap|bitch\w*|bastard\w*|wtf|asshole\w*)\b", re.IGNORECASE
)


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
    effects: Effects = field(init=False)

    def __post_init__(self) -> None:
        self.effects = Effects(self.store, self.clock)

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

    def _assignee(self, case: dict[str, Any], mention: dict[str, Any]) -> Person:
        if case.get("assignee_email"):
            rep = self.playbook.rep_by_email(str(case["assignee_email"]))
            if rep:
                return rep
        return self.playbook.choose_rep(str(mention["text"]), int(case.get("priority", 4)))

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
        self.effects.check_posting_hold()
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
        tweet_id, posted_now = self.effects.post_once(
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
        once = self.effects.at_most_once(
            f"{escalation_id}#email",
            lambda: self._email_escalation(
                case, mention, escalation_id, task_token, role, recipient, reminder
            ),
        )
        if not once.made_now:
            return {"escalation_id": escalation_id, "emailed": False}
        now = self.clock().isoformat()
        # Links in older emails for this case stop working: only the newest request can be answered.
        fields: dict[str, Any] = {
            "last_notified_at": now,
            "last_notified": recipient.email,
            "current_escalation_id": escalation_id,
        }
        if not case.get("escalated_at"):
            fields["escalated_at"] = now
        if reminder:
            fields["reminders"] = int(case.get("reminders", 0)) + 1
        if role == "supervisor":
            fields["supervisor_escalated_at"] = now
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

    def _email_escalation(
        self,
        case: dict[str, Any],
        mention: dict[str, Any],
        escalation_id: str,
        task_token: str,
        role: str,
        recipient: Person,
        reminder: bool,
    ) -> dict[str, Any]:
        """Store the escalation (what its links answer), then email it; returns the message id."""
        case_id = str(case["case_id"])
        now = self.clock()
        expires_at = int((now + timedelta(seconds=self.playbook.sla.action_link_ttl_seconds)).timestamp())
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
        )
        return {"result_id": self.mailer.send(message)}

    def alert_ops(self, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
        """One email to ops per episode: the first case to hit X's billing stop puts the hold in place
        and alerts; the cases after it find the hold and stay quiet."""
        name = str(error.get("Error", "Unknown"))
        key = f"{case_id}#alert#{name}"
        if name in ("XCreditsExhausted", "XUsageCapped"):
            episode, placed = self.effects.hold_posting(reason=name)
            if placed:
                metrics.add_metric(name="XBudgetExhausted", unit=MetricUnit.Count, value=1)
            key = f"ops-alert#{name}#{episode}"
        message = ops_alert_email(
            playbook=self.playbook, case_id=case_id, error=name, cause=str(error.get("Cause", ""))
        )
        once = self.effects.at_most_once(key, lambda: {"result_id": self.mailer.send(message)})
        return {"alerted": once.made_now}

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
        self.effects.check_posting_hold()
        once = self.effects.at_most_once(f"{case_id}#follow_up", lambda: self._ask(case, x, values))
        if not once.made_now:
            earlier = once.recorded
            return {
                "asked": earlier.get("state") == "DONE" and earlier.get("channel") != "none",
                "channel": earlier.get("channel"),
                "repeat": True,
            }
        channel = once.recorded["channel"]
        if channel == "none":
            return {"asked": False, "reason": "no customer post left to reply to"}
        self.store.update_case(
            case_id, follow_up_asked_at=self.clock().isoformat(), follow_up_channel=channel
        )
        return {"asked": True, "channel": channel}

    def _ask(self, case: dict[str, Any], x: XApi, values: dict[str, str]) -> dict[str, Any]:
        """Ask by DM if the customer opened one, else publicly; returns the channel used."""
        case_id = str(case["case_id"])
        if case.get("dm_open"):
            try:
                x.send_dm(
                    str(case["customer_id"]), self.playbook.render("follow_up_dm", key=case_id, **values)
                )
                return {"channel": "dm"}
            except XDirectMessageRefused:
                logger.info("follow-up DM refused; asking publicly", extra={"case_id": case_id})
        target = self._latest_customer_post(case)
        if target is None:
            return {"channel": "none"}
        x.reply(target, self.playbook.render("follow_up_public", key=case_id, **values))
        return {"channel": "public"}

    def _latest_customer_post(self, case: dict[str, Any]) -> str | None:
        """A post of the customer's in the case that we have not replied to (one reply per interaction)."""
        own = [
            m
            for m in self.store.case_mentions(str(case["case_id"]))
            if m["author"]["id"] == case["customer_id"]
            and m["tweet_id"] != case["root_tweet_id"]
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
        self.effects.check_posting_hold()
        x = self.x_for(str(case["handle"]))
        _, posted_now = self.effects.post_once(
            f"{case_id}#retweet", lambda: self._retweet(x, str(post["tweet_id"]))
        )
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
        if post.get("quoted_tweet_id"):  # retweets never reach here: ingest skips them
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
        }
        store.update_case(str(case["case_id"]), follow_up_post=post)
        token = case.get("follow_up_token")
        if token:
            try:
                workflow.succeed(str(token), post)
            except TaskTokenRejected:
                logger.info("follow-up window already closed", extra={"case_id": case["case_id"]})

    return on_stored
