"""The outbox: ``OUTBOX#<key>`` claims, one per external effect, and the posting hold
(``HOLD#x-billing`` / ``HOLD``) that X's billing stop puts on all posting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from turnaround.dal.table import Repository, condition_failed, iso, storage_errors, to_item
from turnaround.exceptions import StorageError
from turnaround.models.outbox import OutboxClaim, PostingHold

POSTING_HOLD = ("HOLD#x-billing", "HOLD")  # pk, sk: present while X billing stops posting


def _key(key: str) -> tuple[str, str]:
    return f"OUTBOX#{key}", "OUTBOX"


class OutboxRepository(Repository):
    def claim(self, key: str, *, claimed_at: datetime, channel: str | None = None) -> OutboxClaim | None:
        """Claim the right to perform the effect ``key``; returns the earlier claim if there is one."""
        pk, sk = _key(key)
        item = to_item(
            {"pk": pk, "sk": sk, "state": "PENDING", "claimed_at": claimed_at.isoformat(), "channel": channel}
        )
        return self._put_first(item, f"claim {key}")

    def _put_first(self, item: dict[str, Any], what: str) -> OutboxClaim | None:
        """Put the effect's first item unless it has one; returns the earlier claim if it has."""
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if condition_failed(exc):
                earlier = self._get(str(item["pk"]), str(item["sk"]))
                return OutboxClaim.model_validate(earlier) if earlier else None
            raise StorageError(f"could not {what}: {exc}") from exc
        return None

    def pre_empt(self, key: str, *, by: str, at: datetime) -> OutboxClaim | None:
        """Settle the effect ``key`` as not to be made, because ``by`` goes first, unless it is
        claimed already; returns the earlier claim if there is one. One conditional write, so the
        effect's own claim and this one cannot both win."""
        pk, sk = _key(key)
        done = {"state": "DONE", "claimed_at": iso(at), "completed_at": iso(at), "channel": "none"}
        item = to_item(
            {
                "pk": pk,
                "sk": sk,
                **done,
                "outcome": f"pre-empted by {by}",
                "pre_empted_by": by,
                "expires_at": self.ref.expires_at(None, self.ref.retention.outbox_days),
            }
        )
        return self._put_first(item, f"pre-empt {key}")

    def undo_pre_emption(self, key: str, *, by: str) -> None:
        """Free the effect ``key`` again if ``by`` still holds it (``by`` made nothing after all)."""
        pk, sk = _key(key)
        try:
            self.table.delete_item(
                Key={"pk": pk, "sk": sk},
                ConditionExpression="pre_empted_by = :by",
                ExpressionAttributeValues={":by": by},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise StorageError(f"could not undo the pre-emption of {key}: {exc}") from exc

    def earlier(self, key: str) -> OutboxClaim | None:
        """The claim on ``key`` if any (made, or in doubt after a crash)."""
        item = self._get(*_key(key))
        return OutboxClaim.model_validate(item) if item else None

    def complete(
        self,
        key: str,
        *,
        result_id: str | None = None,
        completed_at: datetime | None = None,
        channel: str | None = None,
        outcome: str | None = None,
        headline: str | None = None,
    ) -> None:
        """Record the effect made (what is None is not written); only now may the item expire (a
        pending claim never does)."""
        self._set(
            *_key(key), state="DONE", result_id=result_id, completed_at=iso(completed_at),
            channel=channel, outcome=outcome, headline=headline,
            expires_at=self.ref.expires_at(None, self.ref.retention.outbox_days),
        )  # fmt: skip

    def release(self, key: str) -> None:
        """Give the claim up: the effect provably did not happen, so a retry may make it."""
        pk, sk = _key(key)
        with storage_errors(f"release {key}"):
            self.table.delete_item(Key={"pk": pk, "sk": sk})

    def posting_hold(self) -> PostingHold | None:
        """The hold X's billing stop put on posting, if one stands (ops delete it to resume)."""
        item = self._get(*POSTING_HOLD)
        return PostingHold.model_validate(item) if item else None

    def hold_posting(self, *, since: str, reason: str) -> tuple[PostingHold, bool]:
        """Put the posting hold in place unless one stands; returns the standing hold and whether
        this call placed it (concurrent cases agree on one hold, so ops get one alert)."""
        hold = PostingHold(since=since, reason=reason)
        item = {"pk": POSTING_HOLD[0], "sk": POSTING_HOLD[1], "since": since, "reason": reason}
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if condition_failed(exc):
                return self.posting_hold() or hold, False
            raise StorageError(f"could not hold posting: {exc}") from exc
        return hold, True
