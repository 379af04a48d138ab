"""The items the repositories write are the items deployed tables already hold: pinned here, attribute
by attribute, for the case-opening transaction (ingest's and the unsure queue's) and the case updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tests.helpers import a_complaint
from turnaround.dal.cases import CaseRepository
from turnaround.dal.mentions import MentionRepository
from turnaround.dal.review_queue import open_case_for
from turnaround.models.case import CaseStatus
from turnaround.models.mention import Mention

_deserializer = TypeDeserializer()
AT = datetime(2026, 11, 23, 10, 0, 5, 250000, tzinfo=UTC)


class _Client:
    def __init__(self) -> None:
        self.transactions: list[list[dict[str, Any]]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        """Sent in DynamoDB's wire format (the low-level client); recorded as Python values, as the
        items read back from the table."""
        self.transactions.append([_as_python(entry) for entry in TransactItems])


def _as_python(entry: dict[str, Any]) -> dict[str, Any]:
    ((operation, body),) = entry.items()
    body = dict(body)
    for part in ("Item", "Key", "ExpressionAttributeValues"):
        if part in body:
            body[part] = {k: _deserializer.deserialize(v) for k, v in body[part].items()}
    return {operation: body}


class _Table:
    """What the repositories call on a boto3 Table, recorded."""

    def __init__(self, items: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.items = items or {}
        self.meta = type("Meta", (), {"client": _Client()})()
        self.updates: list[dict[str, Any]] = []
        self.puts: list[dict[str, Any]] = []

    def put_item(self, **kwargs: Any) -> None:
        self.puts.append(kwargs)

    def get_item(self, Key: dict[str, str], **_: Any) -> dict[str, Any]:
        item = self.items.get((Key["pk"], Key["sk"]))
        return {"Item": item} if item else {}

    def update_item(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)

    def query(self, ExpressionAttributeValues: dict[str, str], **_: Any) -> dict[str, Any]:
        """A thread's pointers (the only query these writes make): one partition."""
        pk = ExpressionAttributeValues[":pk"]
        return {"Items": [item for (ipk, _sk), item in self.items.items() if ipk == pk]}


def _mention(**triage: Any) -> Mention:
    return a_complaint(at=AT, **triage)


CASE_ITEM = {
    "pk": "CASE#case-1900",
    "sk": "CASE",
    "type": "case",
    "case_id": "case-1900",
    "status": "OPEN",
    "handle": "acmeair",
    "root_tweet_id": "1900",
    "conversation_id": "1900",
    "customer_id": "42",
    "customer_username": "jane",
    "priority": 2,
    "severity": "complex",
    "route": "offline",
    "opened_at": "2026-11-23T10:00:05.250000+00:00",
    "mention_count": 1,
    "gsi1pk": "CUSTOMER#42",
    "gsi1sk": "OPEN#2026-11-23T10:00:05.250000+00:00",
}
POINTER = {
    "Put": {
        "TableName": "t",
        "Item": {"pk": "CONVERSATION#1900", "sk": "CASE#42", "case_id": "case-1900", "starts_thread": True},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
}


def test_ingest_opens_a_case_with_the_items_deployed_tables_hold() -> None:
    table = _Table()
    outcome = MentionRepository("t", table=table).record(  # type: ignore[arg-type]
        _mention(), open_case=True, retention=timedelta(days=180)
    )
    assert outcome.case_opened and outcome.case_id == "case-1900"
    (mention_put, case_put, pointer_put), *_ = table.meta.client.transactions
    assert mention_put["Put"]["ConditionExpression"] == "attribute_not_exists(pk)"
    stored = mention_put["Put"]["Item"]
    assert {k: stored[k] for k in ("pk", "sk", "type", "case_id", "gsi1pk", "gsi1sk", "expires_at")} == {
        "pk": "MENTION#1900",
        "sk": "MENTION",
        "type": "mention",
        "case_id": "case-1900",
        "gsi1pk": "CASE#case-1900",
        "gsi1sk": "MENTION#1900",
        "expires_at": int((AT + timedelta(days=180)).timestamp()),
    }
    assert case_put == {
        "Put": {"TableName": "t", "Item": CASE_ITEM, "ConditionExpression": "attribute_not_exists(pk)"}
    }
    assert pointer_put == POINTER


def test_the_unsure_queue_opens_its_case_with_the_same_items() -> None:
    from turnaround.dal.repositories import Repositories

    table = _Table()
    mention = _mention(reasons=["unsure"])
    store = Repositories("t", table=table)  # type: ignore[arg-type]
    assert open_case_for(store, mention, opened_at=AT, by="Sam") == "case-1900"
    (claim, case_put, pointer_put), *_ = table.meta.client.transactions
    assert case_put["Put"]["Item"] == CASE_ITEM | {"opened_by": "Sam"}
    assert pointer_put == POINTER
    update = claim["Update"]
    assert update["UpdateExpression"] == "SET case_id = :case, triage = :triage, gsi1pk = :g1, gsi1sk = :g1s"
    assert update["ConditionExpression"] == "attribute_exists(pk) AND attribute_not_exists(case_id)"
    values = update["ExpressionAttributeValues"]
    assert values[":triage"]["reasons"] == ["unsure", "opened by Sam from the unsure queue"]
    assert values[":triage"]["sentiment"] == Decimal("-0.5") and values[":g1"] == "CASE#case-1900"


def test_a_status_change_moves_the_gsi_key_and_writes_only_what_it_names() -> None:
    stored = {**CASE_ITEM, "priority": Decimal(2), "mention_count": Decimal(1)}
    table = _Table({("CASE#case-1900", "CASE"): stored})
    CaseRepository("t", table=table).resolved("case-1900", at=AT, note=None)  # type: ignore[arg-type]
    (update,) = table.updates
    assert update["Key"] == {"pk": "CASE#case-1900", "sk": "CASE"}
    assert update["ConditionExpression"] == "attribute_exists(pk)"
    assert update["ExpressionAttributeValues"] == {
        ":status": CaseStatus.FOLLOW_UP,
        ":gsi1sk": "FOLLOW_UP#2026-11-23T10:00:05.250000+00:00",
        ":resolved_at": "2026-11-23T10:00:05.250000+00:00",
    }  # the note was None: not written
    # New with the one-read follow-up lookup: the case is filed under the customers awaiting one.
    assert table.puts == [
        {
            "Item": {
                "pk": "AWAITING_FOLLOW_UP",
                "sk": "42#case-1900",
                "customer_id": "42",
                "case_id": "case-1900",
            }
        }
    ]
