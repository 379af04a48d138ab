"""Direct messages: ``DM#<event_id>`` items, each stored once, threaded into their case (GSI1)."""

from __future__ import annotations

from typing import Any

from turnaround.dal.table import Repository, iso, to_item
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
