"""What a rep's action link does: show the case (GET, no effect), then act on confirmation (POST)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.clock import utc_now
from turnaround.dal.store import MentionStore
from turnaround.exceptions import CaseNotResolved, TaskTokenRejected, TurnaroundError
from turnaround.logic.rep_actions.links import ActionClaim, ActionLinkSigner, ActionLinkUsed
from turnaround.models.playbook import Playbook, Rep
from turnaround.observability import logger

NOTE_LIMIT = 2000


class ReassignRefused(TurnaroundError):
    """A reassignment without another rep chosen from the roster (the page answers 400)."""


@dataclass
class ActionDesk:
    store: MentionStore
    signer: ActionLinkSigner
    workflow: WorkflowClient
    playbook: Playbook
    clock: Callable[[], datetime] = utc_now

    def preview(self, token: str) -> tuple[ActionClaim, dict[str, Any], dict[str, Any]]:
        """Verify the link and load what the confirm page shows. Changes nothing."""
        claim = self.signer.verify(token, now=self.clock())
        escalation = self.store.get_escalation(claim.escalation_id)
        if escalation is None or escalation.get("case_id") != claim.case_id:
            raise ActionLinkUsed("this link no longer belongs to an open request")
        if escalation.get("used_at"):
            raise ActionLinkUsed(f"this case was already marked '{escalation.get('used_action')}'")
        case = self.store.get_case(claim.case_id) or {}
        if case.get("current_escalation_id") not in (None, claim.escalation_id):
            raise ActionLinkUsed("a newer email about this case replaced this one; use its links")
        mention = self.store.get_mention(str(case.get("root_tweet_id"))) or {}
        context: dict[str, Any] = {
            "case": case,
            "mention": mention,
            "recipient": escalation.get("recipient", ""),
        }
        context["choices"] = self.reassign_choices(context)
        return claim, escalation, context

    def act(self, token: str, *, note: str, reassign_to: str | None = None) -> str:
        claim, escalation, context = self.preview(token)
        note = note.strip()[:NOTE_LIMIT]
        if claim.action == "reassign":  # checked before the link is consumed: a wrong form keeps it
            self.reassign_target(context, reassign_to)
        used_at = self.clock()
        if not self.store.consume_escalation(
            claim.escalation_id, action=claim.action, note=note, used_at=used_at
        ):
            raise ActionLinkUsed("this case was already acted on from this email")
        try:
            self._answer(claim, str(escalation["task_token"]), context, note, reassign_to)
        except TaskTokenRejected:
            raise  # the workflow moved on (escalated): this link is rightly dead
        except Exception:
            # Never a consumed link with an unanswered workflow: undo, so the same link works again.
            self.store.release_escalation(claim.escalation_id, used_at=used_at)
            raise
        logger.info("rep acted", extra={"case_id": claim.case_id, "action": claim.action})
        return claim.action

    def reassign_choices(self, context: dict[str, Any]) -> list[Rep]:
        """Whom a case can go to: any rep on the roster but its current rep and the one asking."""
        excluded = {str(context["case"].get("assignee_email", "")), str(context.get("recipient", ""))}
        return [rep for rep in self.playbook.roster if rep.email not in excluded]

    def reassign_target(self, context: dict[str, Any], reassign_to: str | None) -> Rep:
        chosen = next((rep for rep in self.reassign_choices(context) if rep.email == reassign_to), None)
        if chosen is None:
            raise ReassignRefused("choose another rep from the list to reassign the case to")
        return chosen

    def _answer(
        self, claim: ActionClaim, task_token: str, context: dict[str, Any], note: str, reassign_to: str | None
    ) -> None:
        if claim.action == "resolved":
            self.workflow.succeed(task_token, {"action": "resolved", "note": note})
        elif claim.action == "reassign":
            chosen = self.reassign_target(context, reassign_to)
            case = context["case"]
            by = str(context["recipient"])
            person = self.playbook.rep_by_email(by) or (
                self.playbook.supervisor if self.playbook.supervisor.email == by else None
            )
            move = {
                "from": str(case.get("assignee_email", "")),
                "to": chosen.email,
                "by": person.name if person else by,
                "at": self.clock().isoformat(),
                "note": note,
            }
            self.store.update_case(
                claim.case_id,
                assignee_email=chosen.email,
                reassignments=[*(case.get("reassignments") or []), move],
            )
            self.workflow.succeed(task_token, {"action": "reassign", "note": note, "assignee": chosen.email})
        else:
            self.workflow.fail(
                task_token, CaseNotResolved.__name__, note or "The rep could not resolve the case."
            )
