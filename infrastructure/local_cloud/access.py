"""Which AWS actions each function really performs, recorded at the SDK while the embedded cloud runs,
so a test can hold each function's IAM role to what its code does (moto does not enforce IAM)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from local_cloud.runtime import current_function

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
