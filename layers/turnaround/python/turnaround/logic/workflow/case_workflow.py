"""The tasks of the per-complaint workflow (infrastructure/case_workflow.asl.yaml).

Every external effect (reply, DM, retweet, email) goes through ``effects.py`` (claim, act,
record), so Step Functions retries and duplicate invocations never repeat it and never lose it.
Public texts are deterministic per case (variant and reference come from the case id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from turnaround.clock import utc_now
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import StorageError
from turnaround.logic.effects import Effects
from turnaround.logic.workflow.voice import case_ref, first_name
from turnaround.models.case import Case
from turnaround.models.mention import Mention
from turnaround.models.playbook import Person, Playbook

if TYPE_CHECKING:  # each task's module, and what it alone needs, is imported when the task runs
    from turnaround.adapters.mailer import Mailer
    from turnaround.adapters.workflow_client import WorkflowClient
    from turnaround.adapters.x_api import XApi
    from turnaround.logic.rep_actions.links import ActionLinkSigner
    from turnaround.logic.reply_mail.reply_desk import ReplyDesk
    from turnaround.models.incident import Incident

Clock = Callable[[], datetime]
__all__ = ["CaseWorkflow", "case_ref", "first_name"]


@dataclass
class CaseWorkflow:
    store: Repositories
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

    def reply_context(self, case: Case, recipient: str) -> dict[str, Any]:
        """The case's reply address and thread headers, and its conversation so far (issue 15)."""
        if self.replies is None:
            return {}
        from turnaround.logic.reply_mail.conversation import timeline

        case_id = case.case_id
        headers = self.reply_headers(case_id, recipient)
        del headers["In-Reply-To"]  # the escalation starts the thread; later emails answer it
        conversation = timeline(
            case,
            self.store.mentions.for_case(case_id),
            self.store.dms.for_case(case_id),
            self.replies.conversation.messages(case_id),
        )
        return {"conversation": conversation, "reply_headers": headers}

    def reply_headers(self, case_id: str, recipient: str) -> dict[str, str]:
        """A later email's place in the case's thread, with the recipient's reply address (none when
        replies by email are off): every email of the thread can be answered into the case."""
        from turnaround.logic.reply_mail.reply_emails import thread_headers

        if self.replies is None:
            return {}
        return thread_headers(
            case_id, self.replies.signer.domain, reply_to=self.replies.reply_address(case_id, recipient)
        )

    def case(self, case_id: str) -> Case:
        case = self.store.cases.get(case_id)
        if case is None:
            raise StorageError(f"no case {case_id}")
        return case

    def root_mention(self, case: Case) -> Mention:
        mention = self.store.mentions.get(case.root_tweet_id)
        if mention is None:
            raise StorageError(f"case {case.case_id} has no root mention")
        return mention

    def brand_user_id(self, handle: str) -> str:
        user_id = self.store.checkpoints.get(handle).user_id
        if user_id is None:
            user_id = self.x_for(handle).me().id
            self.store.checkpoints.set_user_id(handle, user_id)
        return user_id

    def followed_case_unanswered(self, case: Case) -> bool:
        """Nothing of ours reached the customer on the earlier case this one follows (``Assign``: one
        rep, one canned reply): its ack failed (they deleted the post before it came and, as people
        do, posted it again; or X refused it) and its rep has posted no reply. This case's ack is
        then the customer's only answer from us."""
        followed = self.store.cases.get(case.follows_case_id) if case.follows_case_id else None
        if followed is None or followed.ack_error is None or followed.ack_tweet_id is not None:
            return False
        return not any(m.outcome == "posted" for m in self.store.conversation.messages(followed.case_id))

    def assignee(self, case: Case, mention: Mention) -> Person:
        if case.assignee_email:
            rep = self.playbook.rep_by_email(case.assignee_email)
            if rep:
                return rep
            # Reassigned to someone this execution's roster never knew (the case started on an older
            # version, before they joined): them, as the roster named them when the case moved, never
            # a rep chosen again from the old roster (who may have left).
            move = next((m for m in reversed(case.reassignments) if m.to_email == case.assignee_email), None)
            if move and move.to_name and move.to_initials:
                return Person(name=move.to_name, initials=move.to_initials, email=move.to_email)
        return self.playbook.choose_rep(mention.text, case.priority)

    def incident_digest(self, incident: Incident) -> bool:
        """The supervisor's digest of the incident for this digest interval, at most once
        (logic/incidents.py); True if sent now. Assign sends it when a case joins, notify when a case
        begins to wait on the supervisor, before the schedule does."""
        from turnaround.logic.incidents import IncidentDesk
        from turnaround.logic.rep_actions.incident_end import IncidentLinkSigner

        desk = IncidentDesk(
            store=self.store,
            mailer=self.mailer,
            playbook=self.playbook,
            signer=IncidentLinkSigner(self.signer.keys),  # the secret of the case's links, its own purpose
            action_url=self.action_url,
            clock=self.clock,
        )
        return desk.send(incident, self.clock())

    # --- tasks: one module each; the state machine, not this class, decides their order ---------

    def assign(self, case_id: str) -> dict[str, Any]:
        from turnaround.logic.workflow import assign

        return assign.assign(self, case_id)

    def acknowledge(self, case_id: str) -> dict[str, Any]:
        from turnaround.logic.workflow import acknowledge

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
        from turnaround.logic.workflow import notify

        return notify.notify(
            self, case_id, task_token, role, reminder, reminder_number=reminder_number, final=final
        )

    def ack_not_posted(self, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
        from turnaround.logic.workflow import ack_not_posted

        return ack_not_posted.ack_not_posted(self, case_id, error)

    def alert_ops(self, case_id: str, error: dict[str, Any]) -> dict[str, Any]:
        from turnaround.logic.workflow import alert_ops

        return alert_ops.alert_ops(self, case_id, error)

    def record_decision(self, case_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        from turnaround.logic.workflow import decide

        return decide.record_decision(self, case_id, decision)

    def ask_follow_up(self, case_id: str) -> dict[str, Any]:
        from turnaround.logic.workflow import follow_up

        return follow_up.ask_follow_up(self, case_id)

    def await_follow_up(self, case_id: str, task_token: str) -> dict[str, Any]:
        from turnaround.logic.workflow import follow_up

        return follow_up.await_follow_up(self, case_id, task_token)

    def amplify(self, case_id: str, post: dict[str, Any], confirmed: bool = False) -> dict[str, Any]:
        from turnaround.logic.workflow import amplify

        return amplify.amplify(self, case_id, post, confirmed)

    def ask_rep_to_amplify(self, case_id: str, post: dict[str, Any], task_token: str) -> dict[str, Any]:
        from turnaround.logic.workflow import amplify

        return amplify.ask_rep_to_amplify(self, case_id, post, task_token)

    def close(self, case_id: str, outcome: str) -> dict[str, Any]:
        from turnaround.logic.workflow import close

        return close.close(self, case_id, outcome)
