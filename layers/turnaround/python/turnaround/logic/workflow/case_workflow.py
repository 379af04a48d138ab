"""The tasks of the per-complaint workflow (infrastructure/case_workflow.asl.yaml).

Every external effect (reply, DM, retweet, email) goes through ``effects.py`` (claim, act,
record), so Step Functions retries and duplicate invocations never repeat it and never lose it.
Public texts are deterministic per case (variant and reference come from the case id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.mailer import Mailer
from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.dal.store import MentionStore
from turnaround.exceptions import StorageError, TaskTokenRejected
from turnaround.logic.rep_actions.links import ActionLinkSigner
from turnaround.logic.reply_mail.conversation import timeline
from turnaround.logic.reply_mail.reply_desk import ReplyDesk
from turnaround.logic.reply_mail.reply_emails import thread_headers
from turnaround.logic.workflow import (
    ack_not_posted,
    acknowledge,
    alert_ops,
    amplify,
    close,
    decide,
    follow_up,
    notify,
)
from turnaround.logic.workflow.effects import Effects
from turnaround.logic.workflow.voice import case_ref, first_name
from turnaround.models.playbook import Person, Playbook
from turnaround.observability import logger, metrics

Clock = Callable[[], datetime]
__all__ = ["CaseWorkflow", "case_ref", "customer_post_listener", "first_name"]


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
    effects: Effects = field(init=False)

    def __post_init__(self) -> None:
        self.effects = Effects(self.store, self.clock)

    # --- helpers -------------------------------------------------------------------------------

    def reply_context(self, case: dict[str, Any], recipient: str) -> dict[str, Any]:
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

    def case(self, case_id: str) -> dict[str, Any]:
        case = self.store.get_case(case_id)
        if case is None:
            raise StorageError(f"no case {case_id}")
        return case

    def root_mention(self, case: dict[str, Any]) -> dict[str, Any]:
        mention = self.store.get_mention(str(case["root_tweet_id"]))
        if mention is None:
            raise StorageError(f"case {case['case_id']} has no root mention")
        return mention

    def brand_user_id(self, handle: str) -> str:
        user_id = self.store.get_checkpoint(handle).user_id
        if user_id is None:
            user_id = self.x_for(handle).me().id
            self.store.set_user_id(handle, user_id)
        return user_id

    def assignee(self, case: dict[str, Any], mention: dict[str, Any]) -> Person:
        if case.get("assignee_email"):
            rep = self.playbook.rep_by_email(str(case["assignee_email"]))
            if rep:
                return rep
        return self.playbook.choose_rep(str(mention["text"]), int(case.get("priority", 4)))

    # --- tasks: one module each; the state machine, not this class, decides their order ---------

    def acknowledge(self, case_id: str) -> dict[str, Any]:
        return acknowledge.acknowledge(self, case_id)

    def notify(
        self,
        case_id: str,
        task_token: str,
        role: str,
        reminder: bool = False,
        *,
        reminder_number: int = 0,
        final: bool = False,
    ) -> dict[str, Any]:
        return notify.notify(
            self, case_id, task_token, role, reminder, reminder_number=reminder_number, final=final
        )

    def ack_not_posted(self, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
        return ack_not_posted.ack_not_posted(self, case_id, error)

    def alert_ops(self, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
        return alert_ops.alert_ops(self, case_id, error)

    def record_decision(self, case_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        return decide.record_decision(self, case_id, decision)

    def ask_follow_up(self, case_id: str) -> dict[str, Any]:
        return follow_up.ask_follow_up(self, case_id)

    def await_follow_up(self, case_id: str, task_token: str) -> dict[str, Any]:
        return follow_up.await_follow_up(self, case_id, task_token)

    def amplify(self, case_id: str, post: dict[str, Any]) -> dict[str, Any]:
        return amplify.amplify(self, case_id, post)

    def close(self, case_id: str, outcome: str) -> dict[str, Any]:
        return close.close(self, case_id, outcome)


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
