"""Each function's IAM role allows what its code does in the demo, and no more than a reviewed list.

moto does not enforce IAM, so the demo runs on the embedded cloud with every AWS call recorded per
function at the SDK (local_cloud.access); each call is then checked against the function's deployed
role policies (as CloudFormation resolved them), conditions included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local_cloud.access import (
    AwsCall,
    AwsCallLog,
    Role,
    as_list,
    calls_by_role,
    denied_calls,
    deployed_roles,
    policy_statements,
)
from local_cloud.loop import run_loop
from local_cloud.runner import DEMO, LocalRun

# The table actions each role grants, reviewed by hand. The demo exercises all of them but, at most,
# the ones in NOT_IN_THE_DEMO, which its code uses on paths the demo need not take.
GRANTED_TABLE_ACTIONS = {
    "MentionPollerFunction": {"GetItem", "PutItem", "UpdateItem", "Query"},
    "DmPollerFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
    "WorkflowTasksFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem"},
    "ActionPageFunction": {"GetItem", "UpdateItem", "PutItem", "Query"},
    "UnsureDigestFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
    "InboundEmailFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
    "DmMailFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
    "CaseDispatcherFunction": set(),
    "IncidentDigestFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem"},
}
NOT_IN_THE_DEMO = {
    "DmPollerFunction": {"DeleteItem"},  # an outbox claim released after a failed DM
    # An outbox claim released after a failed email; the reps' loads, read when more than one rep may
    # take a case (storm mode: tests/integration/test_incidents)
    "WorkflowTasksFunction": {"DeleteItem", "BatchGetItem"},
    # "Open a case" from the unsure digest (tests/integration/test_unsure_queue)
    "ActionPageFunction": {"PutItem", "Query"},
    "InboundEmailFunction": {"DeleteItem"},  # an outbox claim released after X refused the reply
    "DmMailFunction": {"DeleteItem"},  # an outbox claim released after SES refused the email
    # Claiming posts for a digest and the digest's outbox claim: whether the demo's hourly digest
    # finds one depends on timing (tests/integration/test_unsure_queue runs it on the deployed stack).
    "UnsureDigestFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem"},
    # The demo has no incident: the schedule only finds none (tests/integration/test_incidents).
    "IncidentDigestFunction": {"PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem"},
}


def recorded_run(run: LocalRun) -> Iterator[tuple[dict[str, set[AwsCall]], dict[str, Role]]]:
    """Run a scenario with every AWS call recorded per function, and read each function's role."""
    with AwsCallLog().active() as log, run.deployed() as cloud:
        run_loop(cloud, run.spec, run.narrator, run.pace, sandbox=False, faults=run.faults)
        yield calls_by_role(log, cloud.stack), deployed_roles(cloud.stack)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, set[AwsCall]], dict[str, Role]]]:
    yield from recorded_run(LocalRun(DEMO, out=tmp_path_factory.mktemp("run")))


def test_every_call_the_code_makes_is_allowed_by_its_role(demo) -> None:
    calls, roles = demo
    assert all(calls.values()), "every function made calls in the demo"
    denied = denied_calls(calls, roles)
    assert not denied, denied


def test_roles_grant_no_table_action_beyond_the_reviewed_list(demo) -> None:
    calls, roles = demo
    for logical_id, role in roles.items():
        granted = {
            action.removeprefix("dynamodb:")
            for statement in role.statements
            if statement.get("Effect") == "Allow"
            for action in as_list(statement["Action"])
            if action.startswith("dynamodb:")
            and not any(
                str(r).endswith("/stream/*") or "/stream/" in str(r) for r in as_list(statement["Resource"])
            )
        }
        assert granted == GRANTED_TABLE_ACTIONS[logical_id], logical_id
        used = {
            call.action.removeprefix("dynamodb:")
            for call in calls[logical_id]
            if call.action.startswith("dynamodb:")
        }
        assert used <= granted and granted - used <= NOT_IN_THE_DEMO.get(logical_id, set()), logical_id
        assert "*" not in json.dumps([s["Action"] for s in role.statements]), logical_id
        # No broad managed policy: SAM's stream one (AWSLambdaDynamoDBExecutionRole) reads every stream.
        broad = ("FullAccess", "Administrator", "DynamoDB")
        assert not [arn for arn in role.managed if any(word in arn for word in broad)], logical_id


def test_the_internet_facing_function_reads_only_links_cases_and_posts(demo) -> None:
    calls, _ = demo
    keys = {call.leading_key for call in calls["ActionPageFunction"] if call.leading_key}
    links = {"ESCALATION#", "REVIEW#", "INCIDENT#"}  # what the three kinds of link act on
    assert keys <= {*links, "CASE#", "CONVERSATION#", "MENTION#"} and "ESCALATION#" in keys
    assert {call.action for call in calls["ActionPageFunction"]} >= {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    }


def test_email_is_sent_only_from_the_sender_domain(demo) -> None:
    _, roles = demo
    [statement] = [
        s for s in roles["WorkflowTasksFunction"].statements if "ses:SendRawEmail" in as_list(s["Action"])
    ]
    assert statement["Condition"] == {"StringLike": {"ses:FromAddress": "*@acmeair.example"}}
    playbook = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"
    assert "sender_email: care@acmeair.example" in playbook.read_text()  # samconfig's SenderDomain matches


def test_the_workflow_may_invoke_only_its_task_function_and_that_functions_versions(demo) -> None:
    """Reviewed: the state machine runs a published version of WorkflowTasksFunction (pinned in the
    definition); executions started on an older version keep invoking it, and executions started
    before versions were published invoke the unqualified function. Nothing else is invocable."""
    cloudformation, iam = boto3.client("cloudformation"), boto3.client("iam")
    [stack] = cloudformation.describe_stacks()["Stacks"]
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in cloudformation.list_stack_resources(StackName=stack["StackName"])["StackResourceSummaries"]
    }
    tasks = boto3.client("lambda").get_function(FunctionName=physical["WorkflowTasksFunction"])
    function_arn = tasks["Configuration"]["FunctionArn"]
    role = physical["CaseWorkflowStateMachineRole"].rsplit("/", 1)[-1]
    statements = [
        statement
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]
        for statement in policy_statements(iam.get_role_policy(RoleName=role, PolicyName=policy))
    ]
    invoking = [s for s in statements if any(a.startswith("lambda:") for a in as_list(s["Action"]))]
    assert [(s["Action"], sorted(as_list(s["Resource"]))) for s in invoking] == [
        ("lambda:InvokeFunction", sorted([function_arn, f"{function_arn}:*"]))
    ]
    assert not [
        s for s in statements if any(a.startswith(("dynamodb:", "ses:")) for a in as_list(s["Action"]))
    ]
