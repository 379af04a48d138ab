"""The case's whole conversation in time order: who said what, when, through which channel."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from turnaround.models.case import Case, CaseMessage, StoredDm
from turnaround.models.mention import Mention

CHANNEL_LABELS = {"x_public": "X post", "x_dm": "X DM", "email": "email"}


class Entry(BaseModel):
    model_config = ConfigDict(defer_build=True)

    at: str  # ISO 8601, UTC
    who: str
    channel: str
    text: str
    note: str = ""

    @property
    def when(self) -> str:
        return self.at[:16].replace("T", " ")


def timeline(
    case: Case,
    mentions: list[Mention],
    dms: list[StoredDm],
    messages: list[CaseMessage],
) -> list[Entry]:
    """The customer's posts in the case, the DMs both ways, and what reps wrote by email (posted or not)."""
    entries = [
        Entry(
            at=(m.created_at or m.ingested_at).isoformat(),
            who=f"@{m.author.username}",
            channel=CHANNEL_LABELS["x_public"],
            text=m.text,
        )
        for m in mentions
        if m.author.id == case.customer_id
    ]
    if case.first_response_at:
        entries.append(
            Entry(
                at=case.first_response_at.isoformat(),
                who="us (automated)",
                channel="X post",
                text=case.ack_text or "acknowledged",
            )
        )
    for dm in dms:
        who = f"@{case.customer_username}" if dm.direction == "customer" else "us (automated)"
        entries.append(
            Entry(
                at=dm.created_at.isoformat() if dm.created_at else "", who=who, channel="X DM", text=dm.text
            )
        )
    for message in messages:
        posted = message.outcome == "posted"
        entries.append(
            Entry(
                at=message.at.isoformat(),
                who=message.author + (" (by email)" if posted else ""),
                channel=CHANNEL_LABELS[message.channel],
                text=message.text,
                note="" if posted else message.outcome,
            )
        )
    return sorted(entries, key=lambda e: e.at)
