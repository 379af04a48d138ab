"""The embedded cloud's DynamoDB behaves as DynamoDB and its event source mapping as Lambda's: an
index query answers as before over just its partition; a cancelled transaction leaves the stream
readable and shows nothing of itself; failed batches are retried from the first failed record, then
dropped and reported after MaximumRetryAttempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_cloud.moto_fixes import dynamodb_as_in_aws
from local_cloud.stack import StreamMapping
from local_cloud.streams import StreamDeliveries

REGION = "us-east-1"


@pytest.fixture
def stream_arn(table_name: str) -> str:
    return str(boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"])


def put(table_name: str, key: str, *, kind: str = "case") -> None:
    boto3.client("dynamodb").put_item(
        TableName=table_name, Item={"pk": {"S": key}, "sk": {"S": "x"}, "type": {"S": kind}}
    )


def cancelled_transaction(table_name: str) -> None:
    with pytest.raises(ClientError, match="TransactionCanceled"):
        boto3.client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table_name, "Item": {"pk": {"S": "c"}, "sk": {"S": "x"}}}},
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {"pk": {"S": "a"}, "sk": {"S": "x"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )


@dataclass
class ScriptedFunction:
    """Stands in for the dispatcher: reports the records listed in `fail` as batch item failures."""

    fail: set[str] = field(default_factory=set)
    batches: list[list[str]] = field(default_factory=list)

    def invoke(self, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        self.batches.append(keys)
        failures = [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event["Records"]
            if r["dynamodb"]["Keys"]["pk"]["S"] in self.fail
        ]
        return {"batchItemFailures": failures}, False


@dataclass
class Stack:
    streams: list[StreamMapping]


def deliveries(stream_arn: str, *, retries: int = 2) -> StreamDeliveries:
    mapping = StreamMapping(
        function="dispatcher",
        stream_arn=stream_arn,
        filters=['{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["case"]}}}}'],
        batch_size=3,
        maximum_retry_attempts=retries,
        report_batch_item_failures=True,
    )
    return StreamDeliveries.start(Stack([mapping]), REGION)  # type: ignore[arg-type]


def test_a_cancelled_transaction_leaves_the_stream_readable_and_shows_nothing_of_itself(
    table_name: str, stream_arn: str
) -> None:
    function = ScriptedFunction()
    with dynamodb_as_in_aws():
        pump = deliveries(stream_arn)
        put(table_name, "a")
        cancelled_transaction(table_name)  # "c" would be written, then "a" fails its condition
        put(table_name, "b")
        pump.pump(function, REGION)  # type: ignore[arg-type]
        stored = boto3.client("dynamodb").scan(TableName=table_name)["Items"]
    assert function.batches == [["a", "b"]]
    assert sorted(item["pk"]["S"] for item in stored) == ["a", "b"]  # "c" was undone


def test_the_filter_applies_and_a_failed_record_is_retried_from_there_then_dropped(
    table_name: str, stream_arn: str
) -> None:
    function = ScriptedFunction(fail={"b"})
    with dynamodb_as_in_aws():
        pump = deliveries(stream_arn, retries=2)
        for key in ("a", "b", "m", "c", "d", "e"):
            put(table_name, key, kind="mention" if key == "m" else "case")
        pump.pump(function, REGION)  # type: ignore[arg-type]
        assert function.batches == [["a", "b", "c"]]  # "m" filtered out; stops at the failure
        pump.pump(function, REGION)  # type: ignore[arg-type]
        assert function.batches[-1] == ["b", "c", "d"]  # checkpointed after "a"
        assert pump.dropped == []
        pump.pump(function, REGION)  # type: ignore[arg-type]
    # The third failure exceeds MaximumRetryAttempts=2: that batch is dropped, the rest delivered.
    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in pump.dropped]] == [["b", "c", "d"]]
    assert function.batches[-1] == ["e"]
    assert not any(d.pending for d in pump.deliveries)


def test_an_index_query_answers_as_moto_does_without_the_shortcut(table_name: str) -> None:
    client = boto3.client("dynamodb")
    for n, (customer, status) in enumerate([("1", "OPEN"), ("2", "OPEN"), ("1", "CLOSED"), ("1", "OPEN")]):
        client.put_item(
            TableName=table_name,
            Item={
                "pk": {"S": f"CASE#{n}"},
                "sk": {"S": "CASE"},
                "gsi1pk": {"S": f"CUSTOMER#{customer}"},
                "gsi1sk": {"S": f"{status}#{n}"},
            },
        )

    def open_cases_of_customer_1() -> list[str]:
        return [
            item["pk"]["S"]
            for item in client.query(
                TableName=table_name,
                IndexName="GSI1",
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :open)",
                ExpressionAttributeValues={":pk": {"S": "CUSTOMER#1"}, ":open": {"S": "OPEN#"}},
                ScanIndexForward=False,
            )["Items"]
        ]

    plain = open_cases_of_customer_1()
    with dynamodb_as_in_aws():
        shortcut = open_cases_of_customer_1()
    assert plain == shortcut == ["CASE#3", "CASE#0"]


def test_an_index_query_follows_every_kind_of_write(table_name: str) -> None:
    """The partitions are kept from the writes' keys: puts, updates that move an item between
    partitions, deletes, batch writes and a cancelled transaction all show in the next query as in
    a scan of the table."""
    client = boto3.client("dynamodb")

    def case(n: int, customer: str) -> dict[str, Any]:
        return {
            "pk": {"S": f"CASE#{n}"},
            "sk": {"S": "CASE"},
            "gsi1pk": {"S": f"CUSTOMER#{customer}"},
            "gsi1sk": {"S": f"OPEN#{n}"},
        }

    def queried(customer: str) -> list[str]:
        response = client.query(
            TableName=table_name,
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer}"}},
        )
        return [item["pk"]["S"] for item in response["Items"]]

    def scanned(customer: str) -> list[str]:
        items = client.scan(
            TableName=table_name,
            FilterExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer}"}},
        )["Items"]
        return [item["pk"]["S"] for item in sorted(items, key=lambda item: item["gsi1sk"]["S"])]

    client.put_item(TableName=table_name, Item=case(0, "1"))  # before the partitions exist
    steps = [
        lambda: client.put_item(TableName=table_name, Item=case(1, "1")),
        lambda: client.put_item(TableName=table_name, Item=case(2, "2")),
        lambda: client.update_item(  # moves CASE#1 to customer 2
            TableName=table_name,
            Key={"pk": {"S": "CASE#1"}, "sk": {"S": "CASE"}},
            UpdateExpression="SET gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "CUSTOMER#2"}},
        ),
        lambda: client.update_item(  # takes CASE#2 out of the index
            TableName=table_name,
            Key={"pk": {"S": "CASE#2"}, "sk": {"S": "CASE"}},
            UpdateExpression="REMOVE gsi1pk",
        ),
        lambda: client.batch_write_item(
            RequestItems={
                table_name: [
                    {"PutRequest": {"Item": case(3, "1")}},
                    {"DeleteRequest": {"Key": {"pk": {"S": "CASE#0"}, "sk": {"S": "CASE"}}}},
                ]
            }
        ),
        lambda: cancelled_transaction_over(table_name, case(4, "1"), existing=case(3, "2")),
        lambda: client.delete_item(TableName=table_name, Key={"pk": {"S": "CASE#1"}, "sk": {"S": "CASE"}}),
    ]
    seen = []
    with dynamodb_as_in_aws():
        for step in steps:
            assert queried("1") == scanned("1") and queried("2") == scanned("2")
            step()
            seen.append((queried("1"), queried("2")))
        assert queried("1") == scanned("1") and queried("2") == scanned("2")
    assert seen == [
        (["CASE#0", "CASE#1"], []),
        (["CASE#0", "CASE#1"], ["CASE#2"]),
        (["CASE#0"], ["CASE#1", "CASE#2"]),
        (["CASE#0"], ["CASE#1"]),
        (["CASE#3"], ["CASE#1"]),
        (["CASE#3"], ["CASE#1"]),  # the transaction's put of CASE#4 and update of CASE#3 undone
        (["CASE#3"], []),
    ]


def cancelled_transaction_over(table_name: str, new: dict[str, Any], *, existing: dict[str, Any]) -> None:
    """Puts `new` and re-files `existing` under another customer, then fails on `existing`'s
    condition, so nothing of it stays."""
    with pytest.raises(ClientError, match="TransactionCanceled"):
        boto3.client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table_name, "Item": new}},
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": existing,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
