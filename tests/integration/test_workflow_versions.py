"""The workflow runs a published version of WorkflowTasksFunction, on the stack deployed from
template.yaml (SAM's AutoPublishAlias through local_cloud's AWS::Lambda::Version and ::Alias)."""

from __future__ import annotations

import json

import boto3

from tests.cloud import Cloud, wait_until
from turnaround.handlers.workflow_tasks import INPUT_VERSION

SAM = "sam.evans@acmeair.example"


def _lambda_arns(definition: dict) -> set[str]:
    return {
        state["Parameters"]["FunctionName"]
        for state in definition["States"].values()
        if state["Type"] == "Task"
    }


def test_every_task_invokes_the_published_version_the_alias_names(cloud: Cloud):
    lambdas = boto3.client("lambda")
    name = cloud.deployed.function_name("WorkflowTasksFunction")
    live = lambdas.get_alias(FunctionName=name, Name="live")
    version_arn = lambdas.get_function(FunctionName=name, Qualifier=live["FunctionVersion"])["Configuration"][
        "FunctionArn"
    ]
    assert version_arn.endswith(f":{name}:{live['FunctionVersion']}")

    machine = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=cloud.state_machine_arn)
    definition = json.loads(machine["definition"])
    assert _lambda_arns(definition) == {version_arn}  # never $LATEST, never the moving alias
    payloads = [s["Parameters"]["Payload"] for s in definition["States"].values() if s["Type"] == "Task"]
    assert all(payload["input_version"] == INPUT_VERSION for payload in payloads)

    # And the workflow runs through it.
    cloud.emulator.add_post("bob", "@acmeair my order is late, tracking hasn't moved since Monday")
    cloud.poll()
    wait_until(lambda: cloud.emails_to(SAM), what="the escalation email")
