"""Static checks of the ASL file and its wiring in template.yaml (typos here never fail loudly)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import turnaround.adapters.mailer
import turnaround.exceptions
from tests.helpers import resource
from turnaround.handlers.workflow_tasks import TASK

ASL = json.loads(
    (Path(__file__).resolve().parents[2] / "infrastructure" / "case_workflow.asl.json").read_text()
)
RAISED_BY_SEND_TASK_FAILURE = {"CaseNotResolved"}
PLATFORM = ("States.", "Lambda.", "Sandbox.")


def _our_exceptions() -> set[str]:
    names = set()
    for module in (turnaround.exceptions, turnaround.adapters.mailer):
        names |= {
            name for name, obj in inspect.getmembers(module, inspect.isclass) if issubclass(obj, Exception)
        }
    return names


def test_every_error_name_in_retry_and_catch_exists():
    known = _our_exceptions() | RAISED_BY_SEND_TASK_FAILURE
    for name, state in ASL["States"].items():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            for error in rule["ErrorEquals"]:
                assert error.startswith(PLATFORM) or error in known, f"{name}: unknown error {error}"


def test_every_next_points_at_a_state_and_every_state_is_reachable():
    states = ASL["States"]
    targets = {ASL["StartAt"]}
    for state in states.values():
        targets |= {state.get("Next"), state.get("Default")} - {None}
        targets |= {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
    assert targets <= set(states)
    assert set(states) <= targets


def test_task_payloads_are_valid_task_inputs():
    for name, state in ASL["States"].items():
        if state["Type"] != "Task":
            continue
        assert state["Parameters"]["FunctionName"] == "${WorkflowTasksFunctionArn}", name
        sample = {}
        for key, value in state["Parameters"]["Payload"].items():
            if key.endswith(".$"):  # a JSONPath: stand in a value of the shape it selects
                name = key.removesuffix(".$")
                sample[name] = "token" if name == "task_token" else "case-1" if name == "case_id" else {}
            else:
                sample[key] = value
        TASK.validate_python(sample)


def test_x_calling_tasks_retry_rate_limits_and_catch_budget_errors():
    for name in ("Acknowledge", "AskForFollowUp", "Amplify"):
        retried = {e for rule in ASL["States"][name]["Retry"] for e in rule["ErrorEquals"]}
        assert {"XRateLimited", "XApiUnavailable"} <= retried, name
    caught = {e for rule in ASL["States"]["Acknowledge"]["Catch"] for e in rule["ErrorEquals"]}
    assert {"XCreditsExhausted", "XUsageCapped", "XReplyNotAllowed", "XDuplicateContent"} <= caught


def test_rep_waits_have_a_heartbeat_and_catch_its_timeout():
    for name in ("NotifyRep", "RemindRep", "NotifySupervisor", "RemindSupervisor"):
        state = ASL["States"][name]
        assert state["Resource"].endswith("waitForTaskToken") and "HeartbeatSecondsPath" in state
        caught = {e for rule in state["Catch"] for e in rule["ErrorEquals"]}
        assert {"States.HeartbeatTimeout", "States.Timeout", "CaseNotResolved"} <= caught


def test_template_wires_the_asl_file_with_substitutions():
    machine = resource("CaseWorkflowStateMachine")["Properties"]
    assert machine["DefinitionUri"] == "infrastructure/case_workflow.asl.json"
    assert machine["Type"] == "STANDARD"
    assert machine["DefinitionSubstitutions"] == {
        "WorkflowTasksFunctionArn": {"Fn::GetAtt": ["WorkflowTasksFunction", "Arn"]}
    }
