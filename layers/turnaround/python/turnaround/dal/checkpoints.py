"""Per-handle polling state: the mention and DM checkpoints, rate-limit resets, the quote watch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from turnaround.dal.table import Repository, condition_failed, storage_errors, to_item
from turnaround.exceptions import StorageError
from turnaround.models.mention import Checkpoint, QuoteWatch


def _key(handle: str) -> dict[str, str]:
    return {"pk": f"HANDLE#{handle}", "sk": "CHECKPOINT"}


_IDS = ("since_id", "pending_newest_id", "resume_until_id", "dm_newest_id")
_CHECKPOINT_FIELDS = (*_IDS, "user_id", "rate_limited_until", "dm_rate_limited_until")


def _checkpoint(handle: str, item: dict[str, Any]) -> Checkpoint:
    ids = {k: str(item[k]) for k in _IDS if k in item}
    until, dm_until = item.get("rate_limited_until"), item.get("dm_rate_limited_until")
    return Checkpoint(
        handle=handle,
        user_id=item.get("user_id"),
        rate_limited_until=datetime.fromisoformat(str(until)) if until else None,
        dm_rate_limited_until=datetime.fromisoformat(str(dm_until)) if dm_until else None,
        dm_confirms_pending=sorted(str(case_id) for case_id in item.get("dm_confirms_pending") or ()),
        **ids,
    )


class CheckpointRepository(Repository):
    def get(self, handle: str) -> Checkpoint:
        with storage_errors(f"read the checkpoint of {handle}"):
            item = self.table.get_item(Key=_key(handle), ConsistentRead=True).get("Item") or {}
        return _checkpoint(handle, item)

    def for_mention_poll(self, handle: str) -> Checkpoint:
        """The checkpoint and when the quote watch last ran, in one read (both items of the
        handle, without the watched posts): an idle poll costs one DynamoDB call."""
        with storage_errors(f"read the checkpoint of {handle}"):
            items = self.table.query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": f"HANDLE#{handle}"},
                ProjectionExpression=", ".join(("sk", *_CHECKPOINT_FIELDS, "checked_at")),
                ConsistentRead=True,
            ).get("Items", [])
        by_sk = {str(item["sk"]): item for item in items}
        checkpoint = _checkpoint(handle, by_sk.get("CHECKPOINT") or {})
        checked_at = (by_sk.get("QUOTES") or {}).get("checked_at")
        if checked_at:
            checkpoint.quotes_checked_at = datetime.fromisoformat(str(checked_at))
        return checkpoint

    def set_user_id(self, handle: str, user_id: str) -> None:
        with storage_errors(f"save the user id of {handle}"):
            self.table.update_item(
                Key=_key(handle),
                UpdateExpression="SET user_id = :u",
                ExpressionAttributeValues={":u": user_id},
            )

    def save_dm_checkpoint(self, handle: str, newest_id: str) -> None:
        """Only moves forward, so overlapping DM polls cannot rewind it."""
        try:
            self.table.update_item(
                Key=_key(handle),
                UpdateExpression="SET dm_newest_id = :n",
                ConditionExpression="attribute_not_exists(dm_newest_id) OR dm_newest_id < :n",
                ExpressionAttributeValues={":n": int(newest_id)},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise StorageError(f"DM checkpoint update failed for {handle}: {exc}") from exc

    def dm_confirm_pending(self, handle: str, case_id: str, *, pending: bool) -> None:
        """Add a case to (or take it off) the handle's confirmations waiting for a rep (a string set:
        adding twice or removing what is gone changes nothing)."""
        with storage_errors(f"save the pending DM confirmation of {case_id}"):
            self.table.update_item(
                Key=_key(handle),
                UpdateExpression=("ADD" if pending else "DELETE") + " dm_confirms_pending :c",
                ExpressionAttributeValues={":c": {case_id}},
            )

    def set_dm_rate_limited(self, handle: str, until: datetime | None) -> None:
        with storage_errors(f"save the DM rate-limit reset of {handle}"):
            if until is None:
                self.table.update_item(Key=_key(handle), UpdateExpression="REMOVE dm_rate_limited_until")
                return
            self.table.update_item(
                Key=_key(handle),
                UpdateExpression="SET dm_rate_limited_until = :r",
                ExpressionAttributeValues={":r": until.isoformat()},
            )

    def record_reach_gap(
        self, handle: str, *, since_id: str, oldest_read_id: str | None, at: datetime
    ) -> None:
        """Mentions between since_id and oldest_read_id were beyond X's reach: kept for ops to see."""
        with storage_errors(f"record the reach gap of {handle}"):
            self.table.update_item(
                Key=_key(handle),
                UpdateExpression="SET last_reach_gap = :g ADD reach_gaps :one",
                ExpressionAttributeValues={
                    ":g": {"since_id": since_id, "oldest_read_id": oldest_read_id, "at": at.isoformat()},
                    ":one": 1,
                },
            )

    def set_rate_limited(self, handle: str, until: datetime) -> None:
        with storage_errors(f"save the rate-limit reset of {handle}"):
            self.table.update_item(
                Key=_key(handle),
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
                Key=_key(handle),
                UpdateExpression=update + (f" REMOVE {remove}" if remove else ""),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if condition_failed(exc):
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

    # --- the quote watch: HANDLE#<handle> / QUOTES ------------------------------------------------

    def get_quote_watch(self, handle: str) -> QuoteWatch:
        """Our recent posts watched for quotes, and when they were last checked."""
        with storage_errors(f"read the quote watch of {handle}"):
            item = self.table.get_item(Key={"pk": f"HANDLE#{handle}", "sk": "QUOTES"}).get("Item") or {}
        return QuoteWatch.model_validate(
            {"posts": item.get("posts") or {}, "checked_at": item.get("checked_at")}, strict=False
        )

    def save_quote_watch(self, handle: str, watch: QuoteWatch) -> None:
        item = {
            "pk": f"HANDLE#{handle}",
            "sk": "QUOTES",
            "posts": {k: v.model_dump(mode="json") for k, v in watch.posts.items()},
            "checked_at": watch.checked_at.isoformat() if watch.checked_at else None,
        }
        with storage_errors(f"save the quote watch of {handle}"):
            self.table.put_item(Item=to_item(item))
