"""What a rep's action link does: show the case (GET, no effect), then act on confirmation (POST)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.clock import utc_now
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import CaseNotResolved, TaskTokenRejected, TurnaroundError
from turnaround.logic.rep_actions.links import ActionClaim, ActionLinkSigner, ActionLinkUsed
from turnaround.models.case import Case, Escalation, Reassignment
from turnaround.models.playbook import Playbook, Rep
from turnaround.observability import logger

NOTE_LIMIT = 2000


class ReassignRefused(TurnaroundError):
    """A reassignment without another rep chosen from the roster (the page answers 400)."""


@dataclass
class ActionDesk:
    store: Repositories
    signer: ActionLinkSigner
    workflow: WorkflowClient
    playbook: Playbook
    clock: Callable[[], datetime] = utc_now

    def preview(self, token: str) -> tuple[ActionClaim, Escalation, dict[str, Any]]:
        """Verify the link and load what the confirm page shows (``case``, ``mention``). Changes nothing."""
        claim = self.signer.verify(token, now=self.clock())
        escalation = self.store.escalations.get(claim.escalation_id)
        if escalation is None or escalation.case_id != claim.case_id:
            raise ActionLinkUsed("this link no longer belongs to an open request")
        if escalation.used_at:
            raise ActionLinkUsed(f"this case was already marked '{escalation.used_action}'")
        case = self.store.cases.get(claim.case_id)
        if case is None:
            raise ActionLinkUsed("this case no longer exists")
        if case.current_escalation_id not in (None, claim.escalation_id):
            raise ActionLinkUsed("a newer email about this case replaced this one; use its links")
        mention = self.store.mentions.get(case.root_tweet_id)
        context: dict[str, Any] = {"case": case, "mention": mention, "post": escalation.post}
        context["choices"] = self.reassign_choices(case, escalation)
        if claim.action in ("resolved", "not_resolved"):
            context["unkept_promise"] = unkept_promise(case)
        return claim, escalation, context

    def act(self, token: str, *, note: str, reassign_to: str | None = None) -> str:
        claim, escalation, context = self.preview(token)
        note = note.strip()[:NOTE_LIMIT]
        if claim.action == "reassign":  # checked before the link is consumed: a wrong form keeps it
            self.reassign_target(context["case"], escalation, reassign_to)
        used_at = self.clock()
        if not self.store.escalations.consume(
            claim.escalation_id, action=claim.action, note=note, used_at=used_at
        ):
            raise ActionLinkUsed("this case was already acted on from this email")
        try:
            self._answer(claim, escalation, context["case"], note, reassign_to)
        except TaskTokenRejected:
            raise  # the workflow moved on (escalated): this link is rightly dead
        except Exception:
            # Never a consumed link with an unanswered workflow: undo, so the same link works again.
            self.store.escalations.release(claim.escalation_id, used_at=used_at)
            raise
        logger.info("rep acted", extra={"case_id": claim.case_id, "action": claim.action})
        return claim.action

    def reassign_choices(self, case: Case, escalation: Escalation) -> list[Rep]:
        """Whom a case can go to: any rep on the roster but its current rep and the one asking."""
        excluded = {case.assignee_email, escalation.recipient}
        return [rep for rep in self.playbook.roster if rep.email not in excluded]

    def reassign_target(self, case: Case, escalation: Escalation, reassign_to: str | None) -> Rep:
        chosen = next(
            (rep for rep in self.reassign_choices(case, escalation) if rep.email == reassign_to), None
        )
        if chosen is None:
            raise ReassignRefused("choose another rep from the list to reassign the case to")
        return chosen

    def _answer(
        self, claim: ActionClaim, escalation: Escalation, case: Case, note: str, reassign_to: str | None
    ) -> None:
        task_token = escalation.task_token
        if claim.action in ("resolved", "retweet", "no_retweet"):
            self.workflow.succeed(task_token, {"action": claim.action, "note": note})
        elif claim.action == "reassign":
            chosen = self.reassign_target(case, escalation, reassign_to)
            person = self.playbook.rep_by_email(escalation.recipient) or (
                self.playbook.supervisor if self.playbook.supervisor.email == escalation.recipient else None
            )
            move = Reassignment(
                from_email=case.assignee_email or "",
                to_email=chosen.email,
                to_name=chosen.name,
                to_initials=chosen.initials,
                by=person.name if person else escalation.recipient,
                at=self.clock(),
                note=note,
            )
            self.store.cases.reassigned(case, move)
            self.workflow.succeed(task_token, {"action": "reassign", "note": note, "assignee": chosen.email})
        else:
            self.workflow.fail(
                task_token, CaseNotResolved.__name__, note or "The rep could not resolve the case."
            )


def unkept_promise(case: Case) -> str | None:
    """Our public ack, when it is the last the customer heard from us: it promised an update ("we're
    on it and will update you here"), and closing the case now would leave that promise standing in
    public. None once a rep's emailed reply (public or DM) went out."""
    if case.route != "public" or not case.ack_tweet_id or case.rep_replied_at is not None:
        return None
    return case.ack_text or "(our public reply)"
