"""The case's conversation beyond mentions and DMs: what reps wrote by email and what became of it.

Items live in the same table and thread into the case through GSI1 like mentions and DMs do:
    MESSAGE#<case_id>#<key> / MESSAGE   GSI1 = CASE#<case_id> / MESSAGE#<at>#<key>
``key`` is derived from the inbound email's Message-ID, so a redelivered email writes the same item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from turnaround.dal.store import MentionStore, _storage_errors, _to_item

Channel = Literal["email", "x_dm", "x_public"]


class CaseMessage(BaseModel):
    """One entry of a case's conversation written or refused by email."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    key: str
    at: datetime
    author: str  # "Alex Rivera <alex@acme.example>"
    channel: Channel  # where it went (x_dm, x_public) or, if it went nowhere, email
    text: str
    outcome: str  # "posted", "not posted: <why>", "ignored: <why>"
    x_id: str | None = None
    in_reply_to_tweet_id: str | None = None
    attachments: list[str] = []


class ConversationStore:
    def __init__(self, store: MentionStore):
        self.store = store

    def record(self, message: CaseMessage) -> None:
        """Idempotent: the same key overwrites with the same facts (latest outcome wins)."""
        item = _to_item(message.model_dump(mode="json"))
        item.update(
            pk=f"MESSAGE#{message.case_id}#{message.key}",
            sk="MESSAGE",
            type="message",
            gsi1pk=f"CASE#{message.case_id}",
            gsi1sk=f"MESSAGE#{message.at.isoformat()}#{message.key}",
        )
        case = self.store.get_case(message.case_id)
        if case and case.get("expires_at"):  # written after its case closed: expires with it
            item["expires_at"] = case["expires_at"]
        with _storage_errors(f"record message {message.key} of {message.case_id}"):
            self.store.table.put_item(Item=item)

    def messages(self, case_id: str) -> list[CaseMessage]:
        return [CaseMessage.model_validate(item, strict=False) for item in self._items(case_id)]

    def expire(self, case_id: str, expires_at: int) -> None:
        """The closed case's messages expire with it (TTL)."""
        for item in self._items(case_id):
            self.store.update_item_fields(str(item["pk"]), "MESSAGE", must_exist=True, expires_at=expires_at)

    def _items(self, case_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        with _storage_errors(f"read the messages of {case_id}"):
            while True:
                page = self.store.table.query(
                    IndexName="GSI1",
                    KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :kind)",
                    ExpressionAttributeValues={":pk": f"CASE#{case_id}", ":kind": "MESSAGE#"},
                    **kwargs,
                )
                items += page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items
