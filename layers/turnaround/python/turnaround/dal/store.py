"""DynamoDB access for mentions, cases and checkpoints. The only module that touches the table.

One table (key design in the README):
    MENTION#<tweet_id>      / MENTION     a stored mention; GSI1 = CASE#<case_id> / MENTION#<tweet_id>
    CASE#<case_id>          / CASE        a case; GSI1 = CUSTOMER#<author_id> / <status>#<opened_at>
    CONVERSATION#<conv_id>  / CASE        which case owns a conversation (one open case per thread)
    HANDLE#<handle>         / CHECKPOINT  polling state of one monitored handle
Every write that must happen once is conditional, so retries and concurrent pollers cannot duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from turnaround.dal.repositories import Repositories
from turnaround.exceptions import StorageError
from turnaround.models.case import CaseStatus
from turnaround.models.mention import Checkpoint, Mention

MAX_CASE_RACE_RETRIES = 3
POSTING_HOLD = ("HOLD#x-billing", "HOLD")  # pk, sk: present while X billing stops posting


def _to_item(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe dict → DynamoDB types (floats become Decimal; None values are dropped)."""
    return json.loads(json.dumps({k: v for k, v in data.items() if v is not None}), parse_float=Decimal)


@contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        raise StorageError(f"DynamoDB failed to {what}: {exc.response['Error'].get('Code')}") from exc


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


@dataclass(frozen=True)
class RecordOutcome:
    stored: bool
    case_id: str | None = None
    case_opened: bool = False


class MentionStore(Repositories):
    """The old dict-returning API, kept while consumers move to the repositories."""

    # --- checkpoints ---------------------------------------------------------------------------

    @staticmethod
    def _checkpoint_key(handle: str) -> dict[str, str]:
        return {"pk": f"HANDLE#{handle}", "sk": "CHECKPOINT"}

    def get_checkpoint(self, handle: str) -> Checkpoint:
        with _storage_errors(f"read the checkpoint of {handle}"):
            item = (
                self.table.get_item(Key=self._checkpoint_key(handle), ConsistentRead=True).get("Item") or {}
            )
        ids = {
            k: str(item[k])
            for k in ("since_id", "pending_newest_id", "resume_until_id", "dm_newest_id")
            if k in item
        }
        until, dm_until = item.get("rate_limited_until"), item.get("dm_rate_limited_until")
        return Checkpoint(
            handle=handle,
            user_id=item.get("user_id"),
            rate_limited_until=datetime.fromisoformat(str(until)) if until else None,
            dm_rate_limited_until=datetime.fromisoformat(str(dm_until)) if dm_until else None,
            **ids,
        )

    def set_user_id(self, handle: str, user_id: str) -> None:
        with _storage_errors(f"save the user id of {handle}"):
            self.table.update_item(
                Key=self._checkpoint_key(handle),
                UpdateExpression="SET user_id = :u",
                ExpressionAttributeValues={":u": user_id},
            )

    def save_dm_checkpoint(self, handle: str, newest_id: str) -> None:
        """Only moves forward, so overlapping DM polls cannot rewind it."""
        try:
            self.table.update_item(
                Key=self._checkpoint_key(handle),
                UpdateExpression="SET dm_newest_id = :n",
                ConditionExpression="attribute_not_exists(dm_newest_id) OR dm_newest_id < :n",
                ExpressionAttributeValues={":n": int(newest_id)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StorageError(f"DM checkpoint update failed for {handle}: {exc}") from exc

    def record_dm(
        self,
        event_id: str,
        *,
        case_id: str | None,
        direction: str,
        text: str,
        sender_id: str | None,
        created_at: datetime | None,
    ) -> bool:
        """Store a DM once (threaded into ``case_id`` when there is one); False if already stored."""
        item: dict[str, Any] = {
            "pk": f"DM#{event_id}",
            "sk": "DM",
            "type": "dm",
            "event_id": event_id,
            "direction": direction,
            "text": text,
            "sender_id": sender_id,
            "case_id": case_id,
            "created_at": created_at.isoformat() if created_at else None,
        }
        if case_id:
            item.update(gsi1pk=f"CASE#{case_id}", gsi1sk=f"DM#{event_id}")
        try:
            self.table.put_item(Item=_to_item(item), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not store DM {event_id}: {exc}") from exc
        return True

    def set_dm_rate_limited(self, handle: str, until: datetime | None) -> None:
        with _storage_errors(f"save the DM rate-limit reset of {handle}"):
            if until is None:
                self.table.update_item(
                    Key=self._checkpoint_key(handle), UpdateExpression="REMOVE dm_rate_limited_until"
                )
                return
            self.table.update_item(
                Key=self._checkpoint_key(handle),
                UpdateExpression="SET dm_rate_limited_until = :r",
                ExpressionAttributeValues={":r": until.isoformat()},
            )

    def record_reach_gap(
        self, handle: str, *, since_id: str, oldest_read_id: str | None, at: datetime
    ) -> None:
        """Mentions between since_id and oldest_read_id were beyond X's reach: kept for ops to see."""
        with _storage_errors(f"record the reach gap of {handle}"):
            self.table.update_item(
                Key=self._checkpoint_key(handle),
                UpdateExpression="SET last_reach_gap = :g ADD reach_gaps :one",
                ExpressionAttributeValues={
                    ":g": {"since_id": since_id, "oldest_read_id": oldest_read_id, "at": at.isoformat()},
                    ":one": 1,
                },
            )

    def get_quote_watch(self, handle: str) -> tuple[dict[str, dict[str, Any]], datetime | None]:
        """Our recent posts watched for quotes, {post id: {"quotes": count seen, "newest": id}}, and
        when they were last checked."""
        with _storage_errors(f"read the quote watch of {handle}"):
            item = self.table.get_item(Key={"pk": f"HANDLE#{handle}", "sk": "QUOTES"}).get("Item") or {}
        posts: dict[str, Any] = item.get("posts") or {}
        checked = item.get("checked_at")
        watched = {
            str(k): {"quotes": int(v.get("quotes", 0)), "newest": v.get("newest")} for k, v in posts.items()
        }
        return watched, datetime.fromisoformat(str(checked)) if checked else None

    def save_quote_watch(
        self, handle: str, posts: dict[str, dict[str, Any]], *, checked_at: datetime
    ) -> None:
        item = {
            "pk": f"HANDLE#{handle}",
            "sk": "QUOTES",
            "posts": posts,
            "checked_at": checked_at.isoformat(),
        }
        with _storage_errors(f"save the quote watch of {handle}"):
            self.table.put_item(Item=_to_item(item))

    def set_rate_limited(self, handle: str, until: datetime) -> None:
        with _storage_errors(f"save the rate-limit reset of {handle}"):
            self.table.update_item(
                Key=self._checkpoint_key(handle),
                UpdateExpression="SET rate_limited_until = :r",
                ExpressionAttributeValues={":r": until.isoformat()},
            )

    def _update_if_unchanged(
        self, handle: str, expected_since: str | None, update: str, values: dict[str, Any], remove: str = ""
    ) -> bool:
        """Optimistic concurrency: only the poller that read ``expected_since`` may move the checkpoint."""
        if expected_since is None:
            condition, values = "attribute_not_exists(since_id)", dict(values)
        else:
            condition, values = "since_id = :expected", {**values, ":expected": int(expected_since)}
        try:
            self.table.update_item(
                Key=self._checkpoint_key(handle),
                UpdateExpression=update + (f" REMOVE {remove}" if remove else ""),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False  # another poller finished a pass first; its checkpoint stands
            raise StorageError(f"checkpoint update failed for {handle}: {exc}") from exc
        return True

    def save_progress(
        self, handle: str, *, expected_since: str | None, pending_newest_id: str, resume_until_id: str
    ) -> bool:
        return self._update_if_unchanged(
            handle,
            expected_since,
            "SET pending_newest_id = :p, resume_until_id = :r",
            {":p": int(pending_newest_id), ":r": int(resume_until_id)},
        )

    def complete_pass(self, handle: str, *, expected_since: str | None, since_id: str) -> bool:
        return self._update_if_unchanged(
            handle,
            expected_since,
            "SET since_id = :s",
            {":s": int(since_id)},
            remove="pending_newest_id, resume_until_id, rate_limited_until",
        )

    # --- mentions and cases --------------------------------------------------------------------

    def _mention_item(self, mention: Mention, case_id: str | None, retention: timedelta) -> dict[str, Any]:
        item = _to_item(mention.model_copy(update={"case_id": case_id}).model_dump(mode="json"))
        item.update(
            pk=f"MENTION#{mention.tweet_id}",
            sk="MENTION",
            type="mention",
            expires_at=_epoch(mention.ingested_at + retention),
        )
        if case_id:
            item.update(gsi1pk=f"CASE#{case_id}", gsi1sk=f"MENTION#{mention.tweet_id}")
        return item

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with _storage_errors(f"read {pk}"):
            return self.table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")

    def get_mention(self, tweet_id: str) -> dict[str, Any] | None:
        return self._get(f"MENTION#{tweet_id}", "MENTION")

    def get_case(self, case_id: str) -> dict[str, Any] | None:
        return self._get(f"CASE#{case_id}", "CASE")

    def _case_for_conversation(self, conversation_id: str) -> dict[str, Any] | None:
        pointer = self._get(f"CONVERSATION#{conversation_id}", "CASE")
        return self.get_case(str(pointer["case_id"])) if pointer else None

    def find_open_case_for_customer(self, author_id: str) -> dict[str, Any] | None:
        with _storage_errors(f"find the open case of customer {author_id}"):
            result = self.table.query(
                IndexName="GSI1",
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :open)",
                ExpressionAttributeValues={":pk": f"CUSTOMER#{author_id}", ":open": f"{CaseStatus.OPEN}#"},
                ScanIndexForward=False,
                Limit=1,
            )
        items = result.get("Items", [])
        return items[0] if items else None

    def case_mentions(self, case_id: str) -> list[dict[str, Any]]:
        return self._case_items(case_id, "MENTION#")

    def case_dms(self, case_id: str) -> list[dict[str, Any]]:
        return self._case_items(case_id, "DM#")

    def _case_items(self, case_id: str, kind: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        with _storage_errors(f"read the {kind} items of {case_id}"):
            while True:
                result = self.table.query(
                    IndexName="GSI1",
                    KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :kind)",
                    ExpressionAttributeValues={":pk": f"CASE#{case_id}", ":kind": kind},
                    **kwargs,
                )
                items += result.get("Items", [])
                if "LastEvaluatedKey" not in result:
                    return items
                kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    def record(self, mention: Mention, *, open_case: bool, retention: timedelta) -> RecordOutcome:
        """Store ``mention`` once. It joins the open case of its conversation; if there is none and
        ``open_case`` is set, it opens one. Returns ``stored=False`` if it was already stored."""
        for _ in range(MAX_CASE_RACE_RETRIES):
            existing = self._case_for_conversation(mention.conversation_id)
            if existing and existing.get("status") == CaseStatus.OPEN:
                outcome = self._attach(mention, str(existing["case_id"]), retention)
            elif open_case:
                outcome = self._open_case(mention, existing, retention)
            else:
                outcome = self._put_plain(mention, retention)
            if outcome is not None:
                return outcome
        raise StorageError(
            f"case for conversation {mention.conversation_id} kept changing; mention "
            f"{mention.tweet_id} not stored, the next poll retries it"
        )

    def _put_plain(self, mention: Mention, retention: timedelta) -> RecordOutcome:
        try:
            self.table.put_item(
                Item=self._mention_item(mention, None, retention),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return RecordOutcome(stored=False)
            raise StorageError(f"could not store mention {mention.tweet_id}: {exc}") from exc
        return RecordOutcome(stored=True)

    def _transact(self, mention: Mention, items: list[dict[str, Any]]) -> str:
        """Run the transaction; 'ok', 'duplicate' (mention exists) or 'race' (case changed under us)."""
        try:
            self.table.meta.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise StorageError(f"could not store mention {mention.tweet_id}: {exc}") from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "duplicate"
            if "ConditionalCheckFailed" in reasons:
                return "race"
            raise StorageError(f"could not store mention {mention.tweet_id}: {reasons or exc}") from exc
        return "ok"

    def _put_mention_once(self, mention: Mention, case_id: str, retention: timedelta) -> dict[str, Any]:
        """The transaction item that stores the mention; its condition is what makes ingest exactly-once."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": self._mention_item(mention, case_id, retention),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _attach(self, mention: Mention, case_id: str, retention: timedelta) -> RecordOutcome | None:
        result = self._transact(
            mention,
            [
                self._put_mention_once(mention, case_id, retention),
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": f"CASE#{case_id}", "sk": "CASE"},
                        "UpdateExpression": "ADD mention_count :one SET last_mention_at = :at",
                        "ConditionExpression": "#status = :open",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":one": 1,
                            ":open": CaseStatus.OPEN,
                            ":at": mention.ingested_at.isoformat(),
                        },
                    }
                },
            ],
        )
        if result == "race":
            return None
        return RecordOutcome(stored=result == "ok", case_id=case_id)

    def _open_case(
        self, mention: Mention, previous: dict[str, Any] | None, retention: timedelta
    ) -> RecordOutcome | None:
        case_id = f"case-{mention.tweet_id}"
        opened_at = mention.ingested_at.isoformat()
        case = _to_item(
            {
                "pk": f"CASE#{case_id}",
                "sk": "CASE",
                "type": "case",
                "case_id": case_id,
                "status": CaseStatus.OPEN,
                "handle": mention.handle,
                "root_tweet_id": mention.tweet_id,
                "conversation_id": mention.conversation_id,
                "customer_id": mention.author.id,
                "customer_username": mention.author.username,
                "priority": mention.triage.priority,
                "severity": mention.triage.severity,
                "route": "offline" if mention.triage.goes_offline else "public",
                "opened_at": opened_at,
                "mention_count": 1,
                "gsi1pk": f"CUSTOMER#{mention.author.id}",
                "gsi1sk": f"{CaseStatus.OPEN}#{opened_at}",
            }
        )
        pointer_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if previous is not None:  # a closed case owned the thread; take it over only if still so
            pointer_condition = {
                "ConditionExpression": "case_id = :previous",
                "ExpressionAttributeValues": {":previous": previous["case_id"]},
            }
        result = self._transact(
            mention,
            [
                self._put_mention_once(mention, case_id, retention),
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": case,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            "pk": f"CONVERSATION#{mention.conversation_id}",
                            "sk": "CASE",
                            "case_id": case_id,
                        },
                        **pointer_condition,
                    }
                },
            ],
        )
        if result == "race":
            return None
        return RecordOutcome(
            stored=result == "ok", case_id=case_id if result == "ok" else None, case_opened=result == "ok"
        )

    # --- workflow state ------------------------------------------------------------------------

    def update_case(self, case_id: str, **fields: Any) -> None:
        self.update_item_fields(f"CASE#{case_id}", "CASE", must_exist=True, **fields)

    def set_case_status(self, case_id: str, status: CaseStatus, **fields: Any) -> None:
        case = self.get_case(case_id)
        if case is None:
            raise StorageError(f"no case {case_id}")
        self.update_case(case_id, status=str(status), gsi1sk=f"{status}#{case['opened_at']}", **fields)

    def find_case_awaiting_follow_up(self, author_id: str) -> dict[str, Any] | None:
        with _storage_errors(f"find the follow-up case of customer {author_id}"):
            result = self.table.query(
                IndexName="GSI1",
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :status)",
                ExpressionAttributeValues={
                    ":pk": f"CUSTOMER#{author_id}",
                    ":status": f"{CaseStatus.FOLLOW_UP}#",
                },
                ScanIndexForward=False,
                Limit=1,
            )
        items = result.get("Items", [])
        return items[0] if items else None

    def outbox_claim(self, key: str, **attributes: Any) -> dict[str, Any] | None:
        """Claim the right to perform the effect ``key``; returns the earlier claim if there is one."""
        item = _to_item({"pk": f"OUTBOX#{key}", "sk": "OUTBOX", "state": "PENDING", **attributes})
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return self._get(f"OUTBOX#{key}", "OUTBOX")
            raise StorageError(f"could not claim {key}: {exc}") from exc
        return None

    def posting_hold(self) -> dict[str, Any] | None:
        """The hold X's billing stop put on posting, if one stands (ops delete it to resume)."""
        return self._get(*POSTING_HOLD)

    def hold_posting(self, *, since: str, reason: str) -> tuple[dict[str, Any], bool]:
        """Put the posting hold in place unless one stands; returns the standing hold and whether
        this call placed it (concurrent cases agree on one hold, so ops get one alert)."""
        item = {"pk": POSTING_HOLD[0], "sk": POSTING_HOLD[1], "since": since, "reason": reason}
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return self.posting_hold() or item, False
            raise StorageError(f"could not hold posting: {exc}") from exc
        return item, True

    def outbox_release(self, key: str) -> None:
        with _storage_errors(f"release {key}"):
            self.table.delete_item(Key={"pk": f"OUTBOX#{key}", "sk": "OUTBOX"})

    def outbox_complete(self, key: str, **result: Any) -> None:
        self.update_item_fields(f"OUTBOX#{key}", "OUTBOX", state="DONE", **result)

    def update_item_fields(self, pk: str, sk: str, *, must_exist: bool = False, **fields: Any) -> None:
        values = _to_item(fields)  # None values are dropped, not written
        if not values:
            return
        extra = {"ConditionExpression": "attribute_exists(pk)"} if must_exist else {}
        with _storage_errors(f"update {pk}"):
            self.table.update_item(
                Key={"pk": pk, "sk": sk},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames={f"#{k}": k for k in values},
                ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
                **extra,
            )

    def save_escalation(self, escalation_id: str, **attributes: Any) -> None:
        with _storage_errors(f"save escalation {escalation_id}"):
            self.table.put_item(
                Item=_to_item(
                    {
                        "pk": f"ESCALATION#{escalation_id}",
                        "sk": "ESCALATION",
                        "escalation_id": escalation_id,
                        **attributes,
                    }
                )
            )

    def get_escalation(self, escalation_id: str) -> dict[str, Any] | None:
        return self._get(f"ESCALATION#{escalation_id}", "ESCALATION")

    def consume_escalation(self, escalation_id: str, *, action: str, note: str, used_at: datetime) -> bool:
        """Mark the escalation acted on; False if it already was (a replay)."""
        try:
            self.table.update_item(
                Key={"pk": f"ESCALATION#{escalation_id}", "sk": "ESCALATION"},
                UpdateExpression="SET used_at = :at, used_action = :action, note = :note",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
                ExpressionAttributeValues={":at": used_at.isoformat(), ":action": action, ":note": note},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not consume escalation {escalation_id}: {exc}") from exc
        return True

    def release_escalation(self, escalation_id: str, *, used_at: datetime) -> None:
        """Undo ``consume_escalation`` when the workflow could not be answered, so the rep can retry
        the same link; only this consumption (``used_at``) is undone, never a later one."""
        try:
            self.table.update_item(
                Key={"pk": f"ESCALATION#{escalation_id}", "sk": "ESCALATION"},
                UpdateExpression="REMOVE used_at, used_action, note",
                ConditionExpression="used_at = :at",
                ExpressionAttributeValues={":at": used_at.isoformat()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StorageError(f"could not release escalation {escalation_id}: {exc}") from exc
