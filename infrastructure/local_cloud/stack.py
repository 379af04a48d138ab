"""Deploy template.yaml into moto: package local code to moto's S3 (what `sam package` does),
transform with aws-sam-translator, create the stack with moto's CloudFormation."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from local_cloud import cfn_models  # noqa: F401 - registers the resource types moto lacks

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = "turnaround-local-artifacts"
# What a local deployment passes unless told otherwise: its X is the emulator, so posting is on; the
# alarms and the sender identity exist in moto only as resources (no alarm fires, no email leaves).
LOCAL_PARAMETERS = {
    "XWritesEnabled": "true",
    "OpsAlertEmail": "ops@acmeair.example",
    "SenderDomain": "acmeair.example",
}


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


def _zip(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for root, _, files in os.walk(directory):
            for name in files:
                if "__pycache__" not in root:
                    full = Path(root) / name
                    archive.write(full, full.relative_to(directory))
    return buffer.getvalue()


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    code_uri: str
    handler: str
    environment: dict[str, str]
    layers: list[str]

    @property
    def module(self) -> str:
        return ".".join([*Path(self.code_uri).parts, self.handler.rsplit(".", 1)[0]])

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass
class StreamMapping:
    """A deployed event source mapping from the table's stream to a function."""

    function: str
    stream_arn: str
    filters: list[str]  # JSON patterns
    batch_size: int
    maximum_retry_attempts: int  # -1: until the record expires
    report_batch_item_failures: bool


@dataclass
class DeployedStack:
    name: str
    template: dict[str, Any]
    outputs: dict[str, str]
    physical: dict[str, str]
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    schedules: list[tuple[str, str, str]] = field(default_factory=list)  # rule, expression, function
    streams: list[StreamMapping] = field(default_factory=list)
    state_machine_arn: str = ""


def translate(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The SAM template as CloudFormation sees it after the AWS::Serverless transform."""
    from samtranslator.translator.transform import transform

    # The translator counts usage metrics for a publisher that only CloudFormation's transform has,
    # then warns on every run that they were never published.
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return dict(transform(template, parameters, _NoManagedPolicies()))


def deploy(parameters: dict[str, str], *, stack_name: str = "turnaround") -> DeployedStack:
    parameters = {**LOCAL_PARAMETERS, **parameters}
    template = copy.deepcopy(load_template())
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=ARTIFACTS)
    code_uris: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                code_uris[logical_id] = properties[key]
                s3.put_object(Bucket=ARTIFACTS, Key=logical_id, Body=_zip(ROOT / properties[key]))
                properties[key] = f"s3://{ARTIFACTS}/{logical_id}"
        if "DefinitionUri" in properties:  # inline the ASL file, as `sam package` would upload it
            properties["Definition"] = yaml.safe_load((ROOT / properties.pop("DefinitionUri")).read_text())

    processed = translate(template, parameters)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(processed),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    description = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if description["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(
            f"stack {stack_name}: {description['StackStatus']} {description.get('StackStatusReason')}"
        )
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    }
    stack = DeployedStack(
        stack_name,
        processed,
        {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])},
        physical,
    )
    _read_functions(stack, code_uris)
    _read_events(stack)
    _register_state_machines(stack)
    return stack


def _read_functions(stack: DeployedStack, code_uris: dict[str, str]) -> None:
    lambda_client = boto3.client("lambda")
    for logical_id, resource in stack.template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function" or logical_id not in stack.physical:
            continue  # not a function, or one whose Condition is false in this deployment
        name = stack.physical[logical_id]
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        layers = [
            _layer_code_uri(layer["Ref"], code_uris)
            for layer in resource["Properties"].get("Layers", [])
            if isinstance(layer, dict) and "Ref" in layer
        ]
        stack.functions[logical_id] = LocalFunction(
            logical_id,
            name,
            code_uris[logical_id],
            configuration["Handler"],
            dict(configuration.get("Environment", {}).get("Variables", {})),
            layers,
        )


def _layer_code_uri(processed_id: str, code_uris: dict[str, str]) -> str:
    """SAM renames a layer to <LogicalId><hash>; map it back to the folder the template names."""
    return next(uri for logical_id, uri in code_uris.items() if processed_id.startswith(logical_id))


def _read_events(stack: DeployedStack) -> None:
    by_arn = {
        boto3.client("lambda").get_function(FunctionName=f.name)["Configuration"]["FunctionArn"]: f.name
        for f in stack.functions.values()
    }
    events = boto3.client("events")
    for rule in events.list_rules()["Rules"]:
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            if "ScheduleExpression" in rule and target["Arn"] in by_arn:
                stack.schedules.append((rule["Name"], rule["ScheduleExpression"], by_arn[target["Arn"]]))
    for mapping in boto3.client("lambda").list_event_source_mappings()["EventSourceMappings"]:
        filters = [f["Pattern"] for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
        function = by_arn.get(mapping["FunctionArn"], mapping["FunctionArn"].split(":")[-1])
        stack.streams.append(
            StreamMapping(
                function=function,
                stream_arn=mapping["EventSourceArn"],
                filters=filters,
                batch_size=int(mapping.get("BatchSize", 100)),
                maximum_retry_attempts=int(mapping.get("MaximumRetryAttempts", -1)),
                report_batch_item_failures="ReportBatchItemFailures"
                in mapping.get("FunctionResponseTypes", []),
            )
        )


def _register_state_machines(stack: DeployedStack) -> None:
    """moto's CloudFormation stores state machines in its recording backend; register the same
    definitions (same name, so the same ARN) with the interpreter that runs them."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.stepfunctions.models import stepfunctions_backends

    recorded = stepfunctions_backends[DEFAULT_ACCOUNT_ID][boto3.session.Session().region_name or "us-east-1"]
    client = boto3.client("stepfunctions")
    for logical_id, resource in stack.template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        machine = next(m for m in recorded.state_machines if m.arn == stack.physical[logical_id])
        definition = machine.definition
        # moto's CloudFormation leaves DefinitionSubstitutions unapplied; apply them as CloudFormation does.
        for key, value in resource["Properties"].get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", _resolve(stack, value))
        stack.state_machine_arn = client.create_state_machine(
            name=machine.name, definition=definition, roleArn=machine.roleArn, type="STANDARD"
        )["stateMachineArn"]


def _resolve(stack: DeployedStack, value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return stack.physical[value["Ref"]]
    logical_id, attribute = value["Fn::GetAtt"]
    if attribute == "Arn" and logical_id in stack.functions:
        arn = boto3.client("lambda").get_function(FunctionName=stack.functions[logical_id].name)
        return str(arn["Configuration"]["FunctionArn"])
    raise ValueError(f"cannot resolve {value} locally")
