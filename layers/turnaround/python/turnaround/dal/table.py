"""What every repository shares: the one table (created lazily, or injected), the conversion of
values to DynamoDB types, and DynamoDB's errors read as ``StorageError``.

One table holds every aggregate (key design in the README); each repository owns its items:
    HANDLE#<handle>         / CHECKPOINT, QUOTES  checkpoints.py
    MENTION#<tweet_id>      / MENTION     GSI1 = CASE#<case_id> / MENTION#<tweet_id>   mentions.py
    CASE#<case_id>          / CASE        GSI1 = CUSTOMER#<author_id> / <status>#<opened_at>  cases.py
    CONVERSATION#<conv_id>  / CASE#<customer_id>  each customer's case in a thread (the starter's flagged)
    AWAITING_FOLLOW_UP      / <customer_id>#<case_id>  cases awaiting a follow-up        cases.py
    DM#<event_id>           / DM          GSI1 = CASE#<case_id> / DM#<event_id>        dms.py
    ESCALATION#<id>         / ESCALATION  escalations.py
    OUTBOX#<key>            / OUTBOX      and HOLD#x-billing / HOLD                     outbox.py
    MESSAGE#<case_id>#<key> / MESSAGE     GSI1 = CASE#<case_id> / MESSAGE#<at>#<key>   conversation_store.py
    REVIEW#<handle>         / <tweet id>  review_queue.py
Every write that must happen once is conditional, so retries and concurrent pollers cannot duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from turnaround.clock import utc_now
from turnaround.exceptions import StorageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from turnaround.models.playbook import Retention


_serializer = TypeSerializer()


def _attribute_value(value: Any) -> dict[str, Any]:
    """One value in DynamoDB's wire format, as boto3's resource layer would send it (strings, maps,
    lists, booleans, null and small integers here; other numbers, sets and binary by boto3's own
    serializer, which checks a number fits DynamoDB's 38 digits)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": {k: _attribute_value(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [_attribute_value(v) for v in value]}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is int and -_MAX_EXACT_INT < value < _MAX_EXACT_INT:
        return {"N": str(value)}
    return _serializer.serialize(value)


_MAX_EXACT_INT = 10**38  # DynamoDB numbers hold 38 significant digits


def to_wire(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TransactItems with Python values (as ``Table`` methods take them) → the low-level client's
    AttributeValues. The resource layer would walk the whole request model and deep-copy it on
    every call (~200 µs of CPU for a mention's transaction); the items written are the same."""
    wired = []
    for entry in items:
        ((operation, body),) = entry.items()
        body = dict(body)
        for part in ("Item", "Key", "ExpressionAttributeValues"):
            if part in body:
                body[part] = {k: _attribute_value(v) for k, v in body[part].items()}
        wired.append({operation: body})
    return wired


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe dict → DynamoDB types (floats become Decimal; None values are dropped)."""
    return json.loads(json.dumps({k: v for k, v in data.items() if v is not None}), parse_float=Decimal)


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        raise StorageError(f"DynamoDB failed to {what}: {exc.response['Error'].get('Code')}") from exc


def condition_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def epoch(when: datetime) -> int:
    return int(when.timestamp())


def iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


class TableRef:
    """The table, created on first use unless injected; repositories built on one ref share it, and
    the retention (TTL) its items follow: the playbook's unless given. ``client``: a low-level
    DynamoDB client on the table's session, for the calls that send AttributeValues themselves."""

    def __init__(
        self,
        table_name: str,
        *,
        table: Table | None = None,
        client: Any = None,
        retention: Retention | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.table_name = table_name
        self._table = table
        self._client = client
        self._retention = retention
        self.clock = clock

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = boto3.resource("dynamodb").Table(self.table_name)
        return self._table

    @property
    def client(self) -> Any:
        """A low-level DynamoDB client for the table (same region, endpoint, credentials and
        config), without the resource layer's per-call conversions: takes AttributeValues
        (``to_wire``). A test's stand-in table provides its own ``meta.client``."""
        if self._client is None:
            resource_client = self.table.meta.client
            if isinstance(resource_client, BaseClient):  # the functions inject the container's
                meta = resource_client.meta
                self._client = boto3.client(
                    "dynamodb",
                    region_name=meta.region_name,
                    endpoint_url=meta.endpoint_url,
                    config=meta.config,
                )
            else:
                self._client = resource_client
        return self._client

    @property
    def retention(self) -> Retention:
        if self._retention is None:
            from turnaround.models.playbook import load_playbook  # the playbook every function loads

            self._retention = load_playbook().retention
        return self._retention

    def expires_at(self, start: datetime | None, days: int) -> int:
        """The TTL (``expires_at``, epoch seconds) ``days`` after ``start`` (default now)."""
        return epoch((start or self.clock()) + timedelta(days=days))


class Repository:
    """Base of the per-aggregate repositories: ``Repo(table_name, table=...)``, or ``Repo(ref)`` to
    share one table with other repositories."""

    def __init__(self, table_name: str | TableRef, *, table: Table | None = None):
        self.ref = table_name if isinstance(table_name, TableRef) else TableRef(table_name, table=table)

    @property
    def table(self) -> Table:
        return self.ref.table

    @property
    def table_name(self) -> str:
        return self.ref.table_name

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with storage_errors(f"read {pk}"):
            return self.table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")

    def _put_once(self, item: dict[str, Any], what: str) -> bool:
        """Put ``item`` unless its key exists; False if it did."""
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise StorageError(f"could not {what}: {exc}") from exc
        return True

    def _set(self, pk: str, sk: str, *, must_exist: bool = False, **fields: Any) -> None:
        """SET the given attributes (None values are left as they are)."""
        values = to_item(fields)
        if not values:
            return
        extra = {"ConditionExpression": "attribute_exists(pk)"} if must_exist else {}
        with storage_errors(f"update {pk}"):
            self.table.update_item(
                Key={"pk": pk, "sk": sk},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames={f"#{k}": k for k in values},
                ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
                **extra,
            )

    def _query_all(self, what: str, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with storage_errors(f"read {what}"):
            while True:
                page = self.table.query(**query)
                items += page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return items
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _case_items(self, case_id: str, kind: str) -> list[dict[str, Any]]:
        """The items of ``kind`` (MENTION#, DM#, MESSAGE#) threaded into a case through GSI1."""
        return self._query_all(
            f"the {kind} items of {case_id}",
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :kind)",
            ExpressionAttributeValues={":pk": f"CASE#{case_id}", ":kind": kind},
        )
