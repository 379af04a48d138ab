"""A case's workflow keeps the function version (and so the playbook and roster) it started with; a
rep who joined the roster later and got the case by "Reassign" is still the one emailed and signed."""

from __future__ import annotations

from typing import Any, cast

from tests.helpers import edited_playbook, triaged_case
from turnaround.logic.workflow.case_workflow import CaseWorkflow
from turnaround.models.case import Case
from turnaround.models.mention import Mention
from turnaround.models.playbook import load_playbook

RILEY = "riley.ng@acmeair.example"  # on the roster after a deploy; the old one never knew her


def _flow(tmp_path: Any) -> CaseWorkflow:
    old = load_playbook(edited_playbook(tmp_path, lambda p: None))  # the roster the case started on
    assert old.rep_by_email(RILEY) is None
    store = cast(Any, object())  # the store is not read: the roster and the case say who
    return CaseWorkflow(store, lambda h: cast(Any, None), cast(Any, None), cast(Any, None), old, "https://x")


def _case(move: dict[str, Any]) -> tuple[Case, Mention]:
    moved = {"from_email": "alex.brown@acmeair.example", "to_email": RILEY, "by": "Alex Brown",
             "at": "2026-11-24T09:00:00+00:00", **move}  # fmt: skip
    case, mention = triaged_case(
        "@acmeair my bag is lost and nobody answers", assignee_email=RILEY, reassignments=[moved]
    )
    return case, mention


def test_a_rep_the_old_roster_never_knew_is_still_the_one_the_case_went_to(tmp_path: Any) -> None:
    case, mention = _case({"to_name": "Riley Ng", "to_initials": "RN"})
    rep = _flow(tmp_path).assignee(case, mention)
    assert (rep.email, rep.name, rep.initials) == (RILEY, "Riley Ng", "RN")  # not a rep chosen again


def test_a_move_recorded_before_names_were_kept_falls_back_to_the_roster(tmp_path: Any) -> None:
    case, mention = _case({})
    assert _flow(tmp_path).assignee(case, mention).email != RILEY  # as before: the old roster picks
