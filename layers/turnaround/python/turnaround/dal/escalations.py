"""Escalations: ``ESCALATION#<id>`` items, what an escalation email's action links answer. A link
works once: consuming is conditional, and undone only when the workflow could not be answered."""

from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from turnaround.dal.table import Repository, condition_failed, storage_errors, to_item
from turnaround.exceptions import StorageError
from turnaround.models.case import Escalation


def _key(escalation_id: str) -> dict[str, str]:
    return {"pk": f"ESCALATION#{escalation_id}", "sk": "ESCALATION"}


class EscalationRepository(Repository):
    def save(self, escalation: Escalation) -> None:
        item = {
            **_key(escalation.escalation_id),
            "escalation_id": escalation.escalation_id,
            "case_id": escalation.case_id,
            "task_token": escalation.task_token,
            "role": escalation.role,
            "recipient": escalation.recipient,
            "created_at": escalation.created_at.isoformat(),
            "expires_at": escalation.expires_at,
            "post": escalation.post.model_dump() if escalation.post else None,
            "links": escalation.links,
        }
        with storage_errors(f"save escalation {escalation.escalation_id}"):
            self.table.put_item(Item=to_item(item))

    def get(self, escalation_id: str) -> Escalation | None:
        item = self._get(**_key(escalation_id))
        return Escalation.model_validate(item) if item else None

    def consume(self, escalation_id: str, *, action: str, note: str, used_at: datetime) -> bool:
        """Mark the escalation acted on; False if it already was (a replay)."""
        try:
            self.table.update_item(
                Key=_key(escalation_id),
                UpdateExpression="SET used_at = :at, used_action = :action, note = :note",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
                ExpressionAttributeValues={":at": used_at.isoformat(), ":action": action, ":note": note},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise StorageError(f"could not consume escalation {escalation_id}: {exc}") from exc
        return True

    def release(self, escalation_id: str, *, used_at: datetime) -> None:
        """Undo ``consume`` when the workflow could not be answered, so the rep can retry the same
        link; only this consumption (``used_at``) is undone, never a later one."""
        try:
            self.table.update_item(
                Key=_key(escalation_id),
                UpdateExpression="REMOVE used_at, used_action, note",
                ConditionExpression="used_at = :at",
                ExpressionAttributeValues={":at": used_at.isoformat()},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise StorageError(f"could not release escalation {escalation_id}: {exc}") from exc
