"""WorkflowTasksFunction validates a task's input with that task's model only (issue 17: one validator
built per cold start, not eleven), with the same result as the discriminated union."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from turnaround.handlers.workflow_tasks import BY_TASK, _any_task, parse_task

TOKEN = "t" * 20
INPUTS: list[dict[str, Any]] = [
    {"task": "assign", "case_id": "case-1"},
    {"task": "acknowledge", "case_id": "case-1", "input_version": 1},
    {"task": "notify", "case_id": "case-1", "task_token": TOKEN, "role": "supervisor", "reminder": True},
    {"task": "alert_ops", "case_id": "case-1", "error": {"Error": "X"}},
    {"task": "ack_not_posted", "case_id": "case-1", "error": {"Error": "X"}},
    {"task": "record_decision", "case_id": "case-1", "decision": {"action": "resolve"}},
    {"task": "ask_follow_up", "case_id": "case-1"},
    {"task": "await_follow_up", "case_id": "case-1", "task_token": TOKEN},
    {"task": "amplify", "case_id": "case-1", "post": {"id": "1"}, "confirmed": True},
    {"task": "ask_rep_to_amplify", "case_id": "case-1", "post": {"id": "1"}, "task_token": TOKEN},
    {"task": "close", "case_id": "case-1", "outcome": "resolved"},
]


def test_every_task_has_its_model() -> None:
    assert sorted(BY_TASK) == sorted(i["task"] for i in INPUTS)


@pytest.mark.parametrize("event", INPUTS, ids=[i["task"] for i in INPUTS])
def test_a_task_parses_as_the_union_parses_it(event: dict[str, Any]) -> None:
    parsed = parse_task(event)
    assert type(parsed) is BY_TASK[event["task"]]
    assert parsed == _any_task().validate_python(event)


@pytest.mark.parametrize(
    "event",
    [
        {"task": "reboot", "case_id": "case-1"},  # unknown
        {"case_id": "case-1"},  # missing
        {"task": 3, "case_id": "case-1"},
        {"task": "acknowledge", "case_id": "case-1", "extra": 1},  # extra field refused
        {"task": "acknowledge", "case_id": "not-a-case"},
    ],
)
def test_bad_input_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_task(event)
