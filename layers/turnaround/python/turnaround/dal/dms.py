"""Direct messages: ``DM#<event_id>`` items, each stored once, threaded into their case (GSI1)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from turnaround.dal.table import Repository, condition_failed, iso, storage_errors, to_item
from turnaround.models.case import StoredDm


class DmRepository(Repository):
    def record(self, dm: StoredDm) -> bool:
        """Store a DM once (threaded into its case when it has one); False if already stored."""
        item: dict[str, Any] = {
            "pk": f"DM#{dm.event_id}",
            "sk": "DM",
            "type": "dm",
            "event_id": dm.event_id,
            "direction": dm.direction,
            "text": dm.text,
            "sender_id": dm.sender_id,
            "case_id": dm.case_id,
            "created_at": iso(dm.created_at),
            "expires_at": self.ref.expires_at(dm.created_at, self.ref.retention.dms_days),
        }
        if dm.case_id:
            item.update(gsi1pk=f"CASE#{dm.case_id}", gsi1sk=f"DM#{dm.event_id}")
        return self._put_once(to_item(item), f"store DM {dm.event_id}")

    def for_case(self, case_id: str) -> list[StoredDm]:
        return [StoredDm.model_validate(item) for item in self._case_items(case_id, "DM#")]

    def adopt(self, event_id: str, case_id: str) -> bool:
        """Thread a DM that no case took into ``case_id`` (the customer's later case); False if a
        case already has it."""
        with storage_errors(f"thread DM {event_id} into {case_id}"):
            try:
                self.table.update_item(
                    Key={"pk": f"DM#{event_id}", "sk": "DM"},
                    UpdateExpression="SET case_id = :case, gsi1pk = :pk, gsi1sk = :sk",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(case_id)",
                    ExpressionAttributeValues={
                        ":case": case_id,
                        ":pk": f"CASE#{case_id}",
                        ":sk": f"DM#{event_id}",
                    },
                )
            except ClientError as exc:
                if condition_failed(exc):
                    return False
                raise
        return True
