"""`Stage` means something: each stage has its own credentials and table, and only prod posts to X by
default. Checked on the stack deployed from template.yaml (local_cloud), and on the X adapter."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_cloud.stack import DeployedStack, deploy
from tests.helpers import X_TIMEOUT
from turnaround.adapters.x_api import XApi
from turnaround.observability import logger
from x_emulator import XApiEmulator


@pytest.fixture
def deployed() -> Iterator[dict[str, DeployedStack]]:
    """One account holding a prod stack and a dev stack side by side, as `make deploy ENV=...` makes."""
    with mock_aws():
        yield {
            "prod": deploy(
                {"MonitoredHandles": "acmeair", "Stage": "prod", "XWritesEnabled": ""},
                stack_name="turnaround",
            ),
            "dev": deploy(
                {"MonitoredHandles": "acmeair", "Stage": "dev", "XWritesEnabled": ""},
                stack_name="turnaround-dev",
            ),
        }


def _environment(stack: DeployedStack) -> dict[str, str]:
    return {name: str(value) for name, value in stack.functions["WorkflowTasksFunction"].environment.items()}


def test_stages_never_share_credentials_or_a_table(deployed: dict[str, DeployedStack]) -> None:
    prod, dev = _environment(deployed["prod"]), _environment(deployed["dev"])
    assert prod["X_CREDENTIALS_SECRET_PREFIX"] == "turnaround/prod/x-credentials/"
    assert dev["X_CREDENTIALS_SECRET_PREFIX"] == "turnaround/dev/x-credentials/"
    assert prod["TABLE_NAME"] != dev["TABLE_NAME"]
    assert (prod["STAGE"], dev["STAGE"]) == ("prod", "dev")


def test_only_prod_posts_to_x_unless_told(deployed: dict[str, DeployedStack]) -> None:
    assert _environment(deployed["prod"])["X_WRITES_ENABLED"] == "true"
    assert _environment(deployed["dev"])["X_WRITES_ENABLED"] == "false"
    for function in deployed["dev"].functions.values():
        assert str(function.environment["X_WRITES_ENABLED"]) == "false", function.logical_id


@pytest.mark.parametrize(
    ("stage", "switch", "expected"), [("dev", "true", "true"), ("prod", "false", "false")]
)
def test_the_switch_overrides_the_stage(stage: str, switch: str, expected: str) -> None:
    with mock_aws():
        stack = deploy({"MonitoredHandles": "acmeair", "Stage": stage, "XWritesEnabled": switch})
        assert _environment(stack)["X_WRITES_ENABLED"] == expected


def test_each_role_reads_only_its_own_stages_credentials(deployed: dict[str, DeployedStack]) -> None:
    iam = boto3.client("iam")
    readers = 0
    for stage, stack in deployed.items():
        for logical_id, resource in stack.template["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role" or logical_id not in stack.physical:
                continue  # not a role, or one whose Condition is false in this deployment
            role = stack.physical[logical_id]
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                document = json.dumps(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
                if "x-credentials" in document:
                    readers += 1
                    other = "dev" if stage == "prod" else "prod"
                    assert f"secret:turnaround/{stage}/x-credentials/*" in document, logical_id
                    assert f"turnaround/{other}/" not in document, logical_id
    assert readers == 6  # the two pollers and the workflow tasks, in each stage


def test_writes_off_posts_nothing_and_logs_what_it_would_have_posted(
    emulator: XApiEmulator, x_api: XApi
) -> None:
    emulator.add_user("jane", name="Jane Chan")
    complaint = emulator.add_post("jane", "@acmeair my bag is lost")
    dry = XApi(x_api._credentials, base_url=emulator.base_url, timeout=X_TIMEOUT, writes_enabled=False)

    log = io.StringIO()
    previous = logger.logger_handler.setStream(log)  # type: ignore[attr-defined]
    try:
        first, again, dm = _dry_run_writes(dry, complaint.id)
    finally:
        logger.logger_handler.setStream(previous)  # type: ignore[attr-defined]

    assert first == again and first.startswith("dryrun-") and dm.startswith("dryrun-")
    assert emulator.posts_created() == [] and emulator.dms_sent() == []
    assert emulator.calls["create_tweet"] == emulator.calls["create_dm"] == emulator.calls["retweet"] == 0
    assert emulator.ledger.spend_usd == 0
    logged = [json.loads(line) for line in log.getvalue().splitlines()]
    skipped = [entry for entry in logged if entry["message"].startswith("X write skipped")]
    assert [entry["operation"] for entry in skipped] == ["reply", "reply", "send_dm", "retweet"]
    assert skipped[0]["text"] == "Sorry Jane, we're on it. ^AB"


def _dry_run_writes(dry: XApi, post_id: str) -> tuple[str, str, str]:
    first = dry.reply(post_id, "Sorry Jane, we're on it. ^AB", dm_deep_link_to="100")
    again = dry.reply(post_id, "Sorry Jane, we're on it. ^AB", dm_deep_link_to="100")
    dm = dry.send_dm("200", "Thanks for writing")
    dry.retweet(post_id)

    return first, again, dm


def test_make_delete_keeps_the_table_and_the_link_secret_and_prod_protects_its_table(
    deployed: dict[str, DeployedStack],
) -> None:
    """What README "Rolling back, deleting" promises: `sam delete` leaves the table and the link
    secret (Retain), and in prod the table cannot be deleted until its protection is turned off."""
    dynamodb, secrets = boto3.client("dynamodb"), boto3.client("secretsmanager")
    kept = {stage: (s.outputs["TableName"], s.physical["ActionLinkSecret"]) for stage, s in deployed.items()}
    for stack in deployed.values():
        boto3.client("cloudformation").delete_stack(StackName=stack.name)
    for stage, (table, secret) in kept.items():
        assert dynamodb.describe_table(TableName=table)["Table"]["DeletionProtectionEnabled"] is (
            stage == "prod"
        )
        assert secrets.describe_secret(SecretId=secret)["ARN"] == secret
    with pytest.raises(ClientError, match=r"(?i)deletion ?protect"):
        dynamodb.delete_table(TableName=kept["prod"][0])
    dynamodb.update_table(TableName=kept["prod"][0], DeletionProtectionEnabled=False)  # the runbook's step
    dynamodb.delete_table(TableName=kept["prod"][0])
    dynamodb.delete_table(TableName=kept["dev"][0])
