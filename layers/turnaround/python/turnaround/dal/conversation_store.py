"""The case's conversation beyond mentions and DMs: what reps wrote by email and what became of it.

Items live in the same table and thread into the case through GSI1 like mentions and DMs do:
    MESSAGE#<case_id>#<key> / MESSAGE   GSI1 = CASE#<case_id> / MESSAGE#<at>#<key>
``key`` is derived from the inbound email's Message-ID, so a redelivered email writes the same item.
"""

from __future__ import annotations

from turnaround.dal.table import Repository, storage_errors, to_item
from turnaround.models.case import CaseMessage


class ConversationStore(Repository):
    def record(self, message: CaseMessage) -> None:
        """Idempotent: the same key overwrites with the same facts (latest outcome wins)."""
        item = to_item(message.model_dump(mode="json"))
        item.update(
            pk=f"MESSAGE#{message.case_id}#{message.key}",
            sk="MESSAGE",
            type="message",
            gsi1pk=f"CASE#{message.case_id}",
            gsi1sk=f"MESSAGE#{message.at.isoformat()}#{message.key}",
        )
        case = self._get(f"CASE#{message.case_id}", "CASE")
        if case and case.get("expires_at"):  # written after its case closed: expires with it
            item["expires_at"] = case["expires_at"]
        with storage_errors(f"record message {message.key} of {message.case_id}"):
            self.table.put_item(Item=item)

    def messages(self, case_id: str) -> list[CaseMessage]:
        return [
            CaseMessage.model_validate(item, strict=False) for item in self._case_items(case_id, "MESSAGE#")
        ]

    def expire(self, case_id: str, expires_at: int) -> None:
        """The closed case's messages expire with it (TTL)."""
        for item in self._case_items(case_id, "MESSAGE#"):
            self._set(str(item["pk"]), "MESSAGE", must_exist=True, expires_at=expires_at)
