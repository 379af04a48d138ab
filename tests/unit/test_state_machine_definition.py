"""Static checks of the ASL file and its wiring in template.yaml (typos here never fail loudly)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml

import turnaround.exceptions
from tests.helpers import resource
from turnaround.exceptions import UnknownTaskInputVersion
from turnaround.handlers.workflow_tasks import INPUT_VERSION, parse_task

ASL_FILE = Path(__file__).resolve().parents[2] / "infrastructure" / "case_workflow.asl.yaml"
ASL = yaml.safe_load(ASL_FILE.read_text())
PLATFORM = ("States.", "Lambda.", "Sandbox.")


def _walk(machine: dict, enclosing: tuple[dict, ...] = ()):
    """Every state with the Parallel states around it, into Parallel branches (names are unique)."""
    for name, state in machine["States"].items():
        yield name, state, enclosing
        for branch in state.get("Branches", []):
            yield from _walk(branch, (*enclosing, state))


STATES = {name: state for name, state, _ in _walk(ASL)}
assert len(STATES) == sum(1 for _ in _walk(ASL)), "state names are unique across branches"


def _our_exceptions() -> set[str]:
    return {
        name
        for name, obj in inspect.getmembers(turnaround.exceptions, inspect.isclass)
        if issubclass(obj, Exception)
    }


def test_every_error_name_in_retry_and_catch_exists():
    known = _our_exceptions()  # one module holds every name the ASL matches
    for name, state in STATES.items():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            for error in rule["ErrorEquals"]:
                assert error.startswith(PLATFORM) or error in known, f"{name}: unknown error {error}"


def _machines(machine: dict):
    yield machine
    for state in machine["States"].values():
        for branch in state.get("Branches", []):
            yield from _machines(branch)


def test_every_next_points_at_a_state_and_every_state_is_reachable():
    for machine in _machines(ASL):  # a Next never leaves its branch
        states = machine["States"]
        targets = {machine["StartAt"]}
        for state in states.values():
            targets |= {state.get("Next"), state.get("Default")} - {None}
            targets |= {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
        assert targets <= set(states)
        assert set(states) <= targets


def test_task_payloads_are_valid_task_inputs():
    for name, state in STATES.items():
        if state["Type"] != "Task":
            continue
        assert state["Parameters"]["FunctionName"] == "${WorkflowTasksFunctionArn}", name
        sample = {}
        for key, value in state["Parameters"]["Payload"].items():
            if key.endswith(".$"):  # a JSONPath: stand in a value of the shape it selects
                name = key.removesuffix(".$")
                sample[name] = {"task_token": "token", "case_id": "case-1", "reminder_number": 2}.get(
                    name, {}
                )
            else:
                sample[key] = value
        assert sample["input_version"] == INPUT_VERSION, name
        parse_task(sample)


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_a_task_input_version_this_code_does_not_read_is_a_named_error(version):
    payload = {"case_id": "case-1", "task": "acknowledge", "input_version": version}
    with pytest.raises(UnknownTaskInputVersion, match="input_version"):
        parse_task(payload)


def test_a_payload_from_before_versioning_reads_as_version_1():
    assert parse_task({"case_id": "case-1", "task": "close", "outcome": "resolved"}).input_version == 1


def test_no_state_retries_an_unknown_task_input_version():
    for name, state in ASL["States"].items():
        for rule in state.get("Retry", []):
            assert not {"UnknownTaskInputVersion", "States.ALL", "TurnaroundError"} & set(
                rule["ErrorEquals"]
            ), name


def test_x_calling_tasks_retry_rate_limits_and_catch_budget_errors():
    for name in ("Acknowledge", "AskForFollowUp", "Amplify"):
        retried = {e for rule in STATES[name]["Retry"] for e in rule["ErrorEquals"]}
        assert {"XRateLimited", "XApiUnavailable"} <= retried, name
    catch = STATES["Acknowledge"]["Catch"]
    assert {"XCreditsExhausted", "XUsageCapped"} <= set(catch[0]["ErrorEquals"])
    assert catch[0]["Next"] == "AlertOpsBudget"
    # Whatever else stops the ack (rate limit or 5xx beyond the retries, a refusal) is recorded:
    # Step Functions matches names exactly, so only States.ALL catches them all.
    assert catch[-1] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.ack_error", "Next": "AckNotPosted"}


def _branch_of(name: str) -> dict:
    return next(b for b in STATES["Engage"]["Branches"] if name in b["States"])


def test_the_rep_is_emailed_in_parallel_with_the_ack_and_the_ack_branch_never_fails():
    engage = STATES["Engage"]
    # Assign (topic, incident, rep by load) goes first and, whatever happens to it, on to Engage.
    assert ASL["StartAt"] == "Assign" and STATES["Assign"]["Next"] == "Engage"
    assert STATES["Assign"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.assign_error", "Next": "Engage"}
    ]
    assert engage["Type"] == "Parallel"
    assert [b["StartAt"] for b in engage["Branches"]] == ["Acknowledge", "NotifyRep"]
    ack_branch = _branch_of("Acknowledge")["States"]
    for name, state in ack_branch.items():  # every Task's failure ends in a recorded outcome
        if state["Type"] == "Task":
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
    assert {s["Type"] for s in ack_branch.values()} <= {"Task", "Pass", "Choice", "Wait"}  # no Fail
    # The rep branch hands its decision on; nothing after the Parallel waits on the ack's result.
    assert engage["ResultSelector"] == {"decision.$": "$[1]"}
    assert STATES["Decided"]["OutputPath"] == "$.decision"


def _can_fail(state: dict) -> bool:
    return state["Type"] in ("Task", "Parallel", "Map")


def test_no_execution_can_end_failed_without_an_email_to_ops():
    """Every state that can fail is caught (itself, or by a Parallel around it) with States.ALL, and
    the only Fail state comes after AlertOpsCaseFailed; that one task's own failure is left to the
    ExecutionsEndedBadly alarm, which emails ops."""
    for name, state, enclosing in _walk(ASL):
        if not _can_fail(state) or name == "AlertOpsCaseFailed":
            continue
        catchers = [state, *enclosing]
        assert any(rule["ErrorEquals"] == ["States.ALL"] for c in catchers for rule in c.get("Catch", [])), (
            f"{name} can fail the execution with no email to ops"
        )
    fails = [name for name, state in STATES.items() if state["Type"] == "Fail"]
    assert fails == ["CaseFailed"]
    assert [n for n, s in STATES.items() if s.get("Next") == "CaseFailed"] == ["AlertOpsCaseFailed"]
    assert STATES["AlertOpsCaseFailed"]["Parameters"]["Payload"]["task"] == "alert_ops"
    top_level_all = {
        rule["Next"]
        for state in ASL["States"].values()
        for rule in state.get("Catch", [])
        if rule["ErrorEquals"] == ["States.ALL"]
    }
    # A failure at top level either closes the case as a courtesy step would, or alerts ops; a failed
    # assignment goes on to engage the rep chosen from the roster.
    assert top_level_all <= {"AlertOpsCaseFailed", "CloseResolved", "CloseFollowedUp", "Engage"}
    alarm = resource("ExecutionsEndedBadlyAlarm")["Properties"]
    assert any(
        m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "ExecutionsFailed"
        for m in alarm["Metrics"]
    )


def test_supervisor_reminders_back_off_and_stop_at_the_playbooks_cap():
    silent, again = STATES["SupervisorSilent"], STATES["SupervisorStillSilent"]
    assert "MathAdd" in silent["Parameters"]["heartbeat_seconds.$"]
    doubling = again["Parameters"]["heartbeat_seconds.$"]
    assert doubling.count("$.supervisor_reminders.heartbeat_seconds") == 2  # x + x: twice the last
    assert STATES["RemindSupervisor"]["HeartbeatSecondsPath"] == "$.supervisor_reminders.heartbeat_seconds"
    [cap] = STATES["ReminderCapReached"]["Choices"]
    assert (
        cap["NumericGreaterThanPath"] == "$.timing.supervisor_reminder_cap" and cap["Next"] == "FinalNotice"
    )
    final = STATES["FinalNotice"]
    assert final["Parameters"]["Payload"]["final"] is True and "HeartbeatSecondsPath" not in final
    # The loop's only way back is through the cap check.
    assert again["Next"] == "ReminderCapReached" and silent["Next"] == "ReminderCapReached"


def test_only_the_first_wait_for_the_rep_may_run_to_support_hours_opening():
    # The dispatcher's first_rep_response_seconds (opening plus the SLA after hours); later waits the SLA.
    assert STATES["NotifyRep"]["HeartbeatSecondsPath"] == "$.timing.first_rep_response_seconds"
    assert STATES["RemindRep"]["HeartbeatSecondsPath"] == "$.timing.rep_response_seconds"
    # A reassignment (someone is working) gives the new rep the plain SLA before NotifyRep again.
    [reassign] = [c for c in STATES["Decide"]["Choices"] if "reassign" in str(c)]
    reset = STATES[reassign["Next"]]
    assert reset["Type"] == "Pass" and reset["Next"] == "NotifyRep"
    assert reset["InputPath"] == "$.timing.rep_response_seconds"
    assert reset["ResultPath"] == "$.timing.first_rep_response_seconds"


def test_rep_waits_have_a_heartbeat_and_catch_its_timeout():
    for name in ("NotifyRep", "RemindRep", "NotifySupervisor", "RemindSupervisor"):
        state = STATES[name]
        assert state["Resource"].endswith("waitForTaskToken") and "HeartbeatSecondsPath" in state
        caught = {e for rule in state["Catch"] for e in rule["ErrorEquals"]}
        assert {"States.HeartbeatTimeout", "States.Timeout", "CaseNotResolved"} <= caught


def test_template_wires_the_asl_file_with_substitutions():
    machine = resource("CaseWorkflowStateMachine")["Properties"]
    assert machine["DefinitionUri"] == "infrastructure/case_workflow.asl.yaml"
    assert machine["Type"] == "STANDARD"
    # The published version SAM creates (AutoPublishAlias), never $LATEST: in-flight executions
    # keep the definition, so the code version, they started with.
    assert machine["DefinitionSubstitutions"] == {
        "WorkflowTasksFunctionArn": {"Ref": "WorkflowTasksFunction.Version"}
    }
    tasks = resource("WorkflowTasksFunction")["Properties"]
    assert tasks["AutoPublishAlias"] and tasks["AutoPublishAliasAllProperties"] is True
    assert "VersionDeletionPolicy" not in tasks  # SAM's default: old versions are retained
    for layer in ("TurnaroundLayer", "DependenciesLayer"):  # a layer change publishes a new version
        assert resource(layer)["Properties"]["PublishLambdaVersion"] is True
    [invoke] = [
        s
        for p in machine["Policies"]
        for s in p.get("Statement", [])
        if s["Action"] == "lambda:InvokeFunction"
    ]
    assert invoke["Resource"] == [
        {"Fn::GetAtt": ["WorkflowTasksFunction", "Arn"]},
        {"Fn::Sub": "${WorkflowTasksFunction.Arn}:*"},
    ]


# The named retry policies of the ASL file's header, and which each Task state gets: exactly these,
# in this order. A Task that starts calling X or sending email must change its row here.
POLICIES = {
    "lambda-service": {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
            "Lambda.Unknown",
            "Sandbox.Timedout",
        ],
        "IntervalSeconds": 2,
        "MaxAttempts": 4,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    },
    "storage": {"ErrorEquals": ["StorageError"], "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2},
    "x-rate-limited": {
        "ErrorEquals": ["XRateLimited"],
        "IntervalSeconds": 60,
        "MaxAttempts": 5,
        "BackoffRate": 2,
    },
    "x-unavailable": {
        "ErrorEquals": ["XApiUnavailable"],
        "IntervalSeconds": 5,
        "MaxAttempts": 3,
        "BackoffRate": 2,
    },
    "email-rejected": {
        "ErrorEquals": ["EmailNotSent"],
        "IntervalSeconds": 30,
        "MaxAttempts": 14,
        "BackoffRate": 2,
        "MaxDelaySeconds": 900,
        "JitterStrategy": "FULL",
    },
    "ops-email-rejected": {
        "ErrorEquals": ["EmailNotSent"],
        "IntervalSeconds": 30,
        "MaxAttempts": 3,
        "BackoffRate": 2,
    },
    "earlier-case-unassigned": {
        "ErrorEquals": ["EarlierCaseNotAssigned"],
        "IntervalSeconds": 2,
        "MaxAttempts": 5,
        "BackoffRate": 1.5,
    },
}
CALLS_X = ["lambda-service", "x-rate-limited", "x-unavailable", "storage"]
SENDS_EMAIL = ["lambda-service", "email-rejected", "storage"]
STORE_ONLY = ["lambda-service", "storage"]
TASK_POLICIES = {
    # the supervisor's incident digest; the customer's earlier case gets its rep first
    "Assign": [*SENDS_EMAIL, "earlier-case-unassigned"],
    "Acknowledge": CALLS_X,
    "AlertOpsBudget": SENDS_EMAIL,
    "AckNotPosted": SENDS_EMAIL,  # the note to the rep, the ops alert
    "NotifyRep": SENDS_EMAIL,
    "RemindRep": SENDS_EMAIL,
    "NotifySupervisor": SENDS_EMAIL,
    "RemindSupervisor": SENDS_EMAIL,
    "FinalNotice": SENDS_EMAIL,
    "RecordResolved": STORE_ONLY,
    "RecordNotResolved": STORE_ONLY,
    "CloseNotResolved": STORE_ONLY,
    "AskForFollowUp": CALLS_X,
    "AwaitFollowUp": STORE_ONLY,
    "Amplify": CALLS_X,
    "AskRepToAmplify": SENDS_EMAIL,
    "Retweet": CALLS_X,
    "CloseFollowedUp": STORE_ONLY,
    "CloseNoFollowUp": STORE_ONLY,
    "CloseResolved": STORE_ONLY,
    # the case failed already: a short try, then ExecutionsEndedBadlyAlarm (SNS) is the backstop
    "AlertOpsCaseFailed": ["lambda-service", "ops-email-rejected", "storage"],
}


def test_every_task_retries_with_exactly_its_named_policies():
    tasks = {name for name, state in STATES.items() if state["Type"] == "Task"}
    assert tasks == set(TASK_POLICIES)
    for name, policies in TASK_POLICIES.items():
        assert STATES[name]["Retry"] == [POLICIES[policy] for policy in policies], name


def test_the_header_names_every_policy_and_each_state_says_which_it_uses():
    text = ASL_FILE.read_text()
    header, states = text.split("\nStates:\n")
    assert all(f"#   {policy} " in header for policy in POLICIES)
    for name, policies in TASK_POLICIES.items():
        # The state's block: its name line, then every line indented deeper.
        [(indent, block)] = re.findall(rf"^( +){name}:\n((?:\1  .*\n?)*)", states, flags=re.MULTILINE)
        assert f"{indent}  Retry:  # {', '.join(policies)}\n" in block, name


def test_the_file_uses_no_yaml_aliases():
    """Step Functions rejects aliases in a definition uploaded from S3, as `sam package` does."""
    events = yaml.parse(ASL_FILE.read_text())
    assert not any(isinstance(event, yaml.AliasEvent) for event in events)


def test_a_queued_ack_waits_for_its_slot_with_one_timer_then_posts():
    """Storm mode: the ack's first attempt reserves its slot in the ack queue; one still ahead comes
    back as `post_at`, and the branch waits for it with a Wait state (no retries of a budget error)
    and runs Acknowledge again, which posts (or finds the case settled meanwhile)."""
    assert STATES["Acknowledge"]["Next"] == "AckQueued"
    [queued] = STATES["AckQueued"]["Choices"]
    assert queued == {"Variable": "$.ack.result.post_at", "IsPresent": True, "Next": "WaitForPostSlot"}
    assert STATES["AckQueued"]["Default"] == "AckDone" and STATES["AckDone"].get("End") is True
    wait = STATES["WaitForPostSlot"]
    assert wait == {"Type": "Wait", "TimestampPath": "$.ack.result.post_at", "Next": "Acknowledge"}
    retried = {e for rule in STATES["Acknowledge"]["Retry"] for e in rule["ErrorEquals"]}
    assert "PostBudgetExhausted" not in retried  # a queue too long for the wait is recorded, not retried


def test_an_ses_refusal_is_retried_for_an_hour_or_more_before_a_case_fails():
    """An SES pause or a storm's burst over the sending rate parks the case. Full jitter waits a
    random part of each backoff (spreading the retries out), so on average half of the caps' sum."""
    policy = next(rule for rule in STATES["NotifyRep"]["Retry"] if rule["ErrorEquals"] == ["EmailNotSent"])
    waits = [
        min(policy["IntervalSeconds"] * policy["BackoffRate"] ** attempt, policy["MaxDelaySeconds"])
        for attempt in range(policy["MaxAttempts"])
    ]
    assert sum(waits) / 2 >= 3600 and policy["JitterStrategy"] == "FULL"
