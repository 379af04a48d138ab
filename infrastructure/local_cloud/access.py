"""Which AWS actions each function really performs, recorded at the SDK while the embedded cloud runs,
so a test can hold each function's IAM role to what its code does (moto does not enforce IAM): every
integration test on the deployed stack does (tests/conftest.py), and tests/e2e/test_least_privilege.py
holds the roles to a reviewed list."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from unittest import mock

from local_cloud.runtime import current_function

if TYPE_CHECKING:
    from local_cloud.stack import DeployedStack

# botocore's service ids → IAM's service prefixes
_IAM_PREFIX = {"secrets-manager": "secretsmanager", "sfn": "states"}
# Calls IAM authorises as another action
_AUTHORISED_AS = {"s3:HeadObject": "s3:GetObject"}
# TransactWriteItems is authorised as its parts
_TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class AwsCall:
    action: str  # IAM action, e.g. dynamodb:GetItem
    on_index: str | None = None  # a query's index name
    leading_key: str | None = None  # the partition key's prefix (before '#'), for dynamodb:LeadingKeys


@dataclass
class AwsCallLog:
    by_function: defaultdict[str, set[AwsCall]] = field(default_factory=lambda: defaultdict(set))

    @contextmanager
    def active(self) -> Iterator[AwsCallLog]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        log = self

        def recorded(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            function = current_function()
            if function:
                log.by_function[function] |= _calls(event_name, request)
            return original(stubber, event_name, request, **kwargs)

        with mock.patch.object(BotocoreStubber, "__call__", recorded):
            yield self


def _calls(event_name: str, request: Any) -> set[AwsCall]:
    _, service, operation = event_name.split(".", 2)
    prefix = _IAM_PREFIX.get(service, service)
    if service != "dynamodb":
        action = f"{prefix}:{operation}"
        return {AwsCall(_AUTHORISED_AS.get(action, action))}
    body = json.loads(request.body or b"{}")
    if operation == "TransactWriteItems":
        return {
            AwsCall(
                f"dynamodb:{_TRANSACT_PARTS[kind]}", leading_key=_leading(spec.get("Item") or spec["Key"])
            )
            for part in body["TransactItems"]
            for kind, spec in part.items()
        }
    if operation == "BatchGetItem":  # LeadingKeys is checked against every key asked for
        return {
            AwsCall("dynamodb:BatchGetItem", leading_key=_leading(key))
            for request in body["RequestItems"].values()
            for key in request["Keys"]
        }
    key = body.get("Key") or body.get("Item") or _queried_partition(body)
    return {AwsCall(f"dynamodb:{operation}", body.get("IndexName"), _leading(key) if key else None)}


def _queried_partition(body: dict[str, Any]) -> dict[str, Any] | None:
    """A table query's partition key (``pk = :v``), which dynamodb:LeadingKeys is checked against."""
    if "IndexName" in body or "KeyConditionExpression" not in body:
        return None
    names = body.get("ExpressionAttributeNames", {})
    for name, value in re.findall(r"([#\w]+)\s*=\s*(:\w+)", body["KeyConditionExpression"]):
        if names.get(name, name) == "pk":
            return {"pk": body["ExpressionAttributeValues"][value]}
    return None


def _leading(key: dict[str, Any]) -> str:
    return str(key["pk"]["S"]).split("#", 1)[0] + "#"


@dataclass
class Role:
    """A function's role as CloudFormation deployed it: its inline statements and managed policies."""

    statements: list[dict[str, Any]]
    managed: list[str]
    table_arn: str

    def allows(self, call: AwsCall) -> bool:
        return any(_allows(statement, call, self.table_arn) for statement in self.statements)


def deployed_roles(stack: DeployedStack) -> dict[str, Role]:
    """Each function's role, read back from the deployed stack (moto's IAM)."""
    import boto3

    iam, lambdas = boto3.client("iam"), boto3.client("lambda")
    table_arn = boto3.client("dynamodb").describe_table(TableName=stack.outputs["TableName"])["Table"][
        "TableArn"
    ]
    roles = {}
    for logical_id, function in stack.functions.items():
        name = lambdas.get_function(FunctionName=function.name)["Configuration"]["Role"].rsplit("/", 1)[-1]
        roles[logical_id] = Role(
            statements=[
                statement
                for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
                for statement in policy_statements(iam.get_role_policy(RoleName=name, PolicyName=policy))
            ],
            managed=[
                p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            ],
            table_arn=table_arn,
        )
    return roles


def calls_by_role(log: AwsCallLog, stack: DeployedStack) -> dict[str, set[AwsCall]]:
    return {
        logical_id: log.by_function.get(function.name, set())
        for logical_id, function in stack.functions.items()
    }


def denied_calls(calls: dict[str, set[AwsCall]], roles: dict[str, Role]) -> dict[str, list[str]]:
    """The calls each function made that its role does not allow (AWS would refuse them)."""
    denied = {
        logical_id: sorted(str(call) for call in made if not roles[logical_id].allows(call))
        for logical_id, made in calls.items()
    }
    return {logical_id: refused for logical_id, refused in denied.items() if refused}


def policy_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    document = policy["PolicyDocument"]
    if isinstance(document, str):  # moto's CloudFormation stores the document as Python's repr
        document = json.loads(document) if document.startswith('{"') else ast.literal_eval(document)
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows(statement: dict[str, Any], call: AwsCall, table_arn: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not any(fnmatch.fnmatchcase(call.action, pattern) for pattern in as_list(statement["Action"])):
        return False
    if call.action.startswith("dynamodb:"):
        resource = f"{table_arn}/index/{call.on_index}" if call.on_index else table_arn
        if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"])):
            return False
    for values in statement.get("Condition", {}).get("ForAllValues:StringLike", {}).values():
        if call.leading_key is None or not any(
            fnmatch.fnmatchcase(call.leading_key, v) for v in as_list(values)
        ):
            return False
    return True
