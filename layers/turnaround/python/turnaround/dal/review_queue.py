"""The unsure queue's storage: ``REVIEW#<handle>`` items (one per post triage could not decide),
claimed once per digest and decided once, and the case a reviewer opens, written as ingest writes one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from turnaround.dal.store import MentionStore, _to_item
from turnaround.exceptions import StorageError
from turnaround.models.case import CaseStatus
from turnaround.models.mention import Mention
from turnaround.observability import metrics

Decision = Literal["open_case", "not_complaint"]
DECISIONS: tuple[Decision, ...] = ("open_case", "not_complaint")
LABELS = {"open_case": "Open a case", "not_complaint": "Not a complaint"}
DIGEST_LIMIT = 50
RETENTION = timedelta(days=30)

if TYPE_CHECKING:  # the claim is the logic's; this module only stores the decision
    from turnaround.logic.rep_actions.review import ReviewClaim


@dataclass
class ReviewQueue:
    store: MentionStore

    @staticmethod
    def key(tweet_id: str) -> str:
        """Post ids grow with time, so zero-padded they keep the queue oldest first."""
        return f"{int(tweet_id):020d}"

    def add(self, mention: Mention) -> None:
        """File an unsure post once (a re-read post is already there)."""
        item = _to_item(
            {
                "pk": f"REVIEW#{mention.handle}",
                "sk": self.key(mention.tweet_id),
                "type": "review",
                "state": "PENDING",
                "tweet_id": mention.tweet_id,
                "handle": mention.handle,
                "queued_at": mention.ingested_at.isoformat(),
                "expires_at": int((mention.ingested_at + RETENTION).timestamp()),
            }
        )
        try:
            self.store.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StorageError(f"could not queue {mention.tweet_id} for review: {exc}") from exc
            return
        metrics.add_metric(name="MentionsUnsure", unit=MetricUnit.Count, value=1)

    def waiting(self, handle: str) -> list[dict[str, Any]]:
        """Posts not yet decided, oldest first."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(f"REVIEW#{handle}"),
            "FilterExpression": Attr("state").eq("PENDING"),
            "ConsistentRead": True,
        }
        while True:
            page = self.store.table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim(self, item: dict[str, Any], at: datetime) -> bool:
        """Claim a new post for one digest; False if another run already has it."""
        try:
            self.store.table.update_item(
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET digested_at = :at",
                ConditionExpression="attribute_not_exists(digested_at)",
                ExpressionAttributeValues={":at": at.isoformat()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not claim {item['tweet_id']} for a digest: {exc}") from exc
        return True

    def release(self, item: dict[str, Any]) -> None:
        self.store.table.update_item(
            Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE digested_at"
        )

    def get(self, handle: str, review_key: str) -> dict[str, Any] | None:
        return self.store.table.get_item(Key={"pk": f"REVIEW#{handle}", "sk": review_key}).get("Item")

    def decide(self, claim: ReviewClaim, *, at: datetime) -> bool:
        """Record the decision once; False if the post was already decided."""
        try:
            self.store.table.update_item(
                Key={"pk": f"REVIEW#{claim.handle}", "sk": claim.review_key},
                UpdateExpression="SET #state = :decided, decision = :decision, decided_at = :at",
                ConditionExpression="#state = :pending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":decided": "DECIDED",
                    ":pending": "PENDING",
                    ":decision": claim.decision,
                    ":at": at.isoformat(),
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not record the decision on {claim.tweet_id}: {exc}") from exc
        return True


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to JSON numbers, so a read item can be written again."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def open_case_for(store: MentionStore, mention: dict[str, Any], *, opened_at: datetime, by: str) -> str:
    """Open the case ingest would have opened for this post: case + thread pointer + mention, at once.

    If its thread already has a case, the post joins it instead. The new CASE item reaches the
    dispatcher through the table's stream, like any case.
    """
    tweet_id, conversation_id = str(mention["tweet_id"]), str(mention["conversation_id"])
    triage = {
        **_plain(mention["triage"]),
        "category": "complaint",
        "reasons": [*mention["triage"].get("reasons", []), f"opened by {by} from the unsure queue"],
    }
    pointer = store.table.get_item(Key={"pk": f"CONVERSATION#{conversation_id}", "sk": "CASE"}).get("Item")
    if pointer:  # the thread has a case: attach, as ingest does
        case_id = str(pointer["case_id"])
        store.update_item_fields(
            f"MENTION#{tweet_id}", "MENTION", case_id=case_id, triage=triage,
            gsi1pk=f"CASE#{case_id}", gsi1sk=f"MENTION#{tweet_id}",
        )  # fmt: skip
        return case_id
    case_id = f"case-{tweet_id}"
    author, severity = mention["author"], triage.get("severity")
    case = _to_item(
        {
            "pk": f"CASE#{case_id}",
            "sk": "CASE",
            "type": "case",
            "case_id": case_id,
            "status": CaseStatus.OPEN,
            "handle": mention["handle"],
            "root_tweet_id": tweet_id,
            "conversation_id": conversation_id,
            "customer_id": author["id"],
            "customer_username": author["username"],
            "priority": int(triage.get("priority", 4)),
            "severity": severity,
            "route": "offline" if severity in ("charged", "complex") else "public",
            "opened_at": opened_at.isoformat(),
            "opened_by": by,
            "mention_count": 1,
            "gsi1pk": f"CUSTOMER#{author['id']}",
            "gsi1sk": f"{CaseStatus.OPEN}#{opened_at.isoformat()}",
        }
    )
    try:
        store.table.meta.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": store.table_name, "Item": case, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": store.table_name, "Item": {"pk": f"CONVERSATION#{conversation_id}", "sk": "CASE", "case_id": case_id}, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {
                    "TableName": store.table_name,
                    "Key": {"pk": f"MENTION#{tweet_id}", "sk": "MENTION"},
                    "UpdateExpression": "SET case_id = :case, triage = :triage, gsi1pk = :g1, gsi1sk = :g1s",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(case_id)",
                    "ExpressionAttributeValues": _to_item({":case": case_id, ":triage": triage, ":g1": f"CASE#{case_id}", ":g1s": f"MENTION#{tweet_id}"}),
                }},
            ]
        )  # fmt: skip
    except ClientError as exc:
        raise StorageError(f"could not open a case for {tweet_id}: {exc}") from exc
    return case_id
