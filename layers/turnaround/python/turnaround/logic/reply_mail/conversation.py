"""The case's whole conversation in time order: who said what, when, through which channel."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from turnaround.models.case import CaseMessage

CHANNEL_LABELS = {"x_public": "X post", "x_dm": "X DM", "email": "email"}


class Entry(BaseModel):
    at: str  # ISO 8601, UTC
    who: str
    channel: str
    text: str
    note: str = ""

    @property
    def when(self) -> str:
        return self.at[:16].replace("T", " ")


def timeline(
    case: dict[str, Any],
    mentions: list[dict[str, Any]],
    dms: list[dict[str, Any]],
    messages: list[CaseMessage],
) -> list[Entry]:
    """The customer's posts in the case, the DMs both ways, and what reps wrote by email (posted or not)."""
    customer = str(case.get("customer_id", ""))
    entries = [
        Entry(
            at=str(m.get("created_at") or m.get("ingested_at") or ""),
            who=f"@{m['author']['username']}",
            channel=CHANNEL_LABELS["x_public"],
            text=str(m["text"]),
        )
        for m in mentions
        if str(m["author"]["id"]) == customer
    ]
    if case.get("first_response_at"):
        entries.append(
            Entry(
                at=str(case["first_response_at"]), who="us (automated)", channel="X post", text="acknowledged"
            )
        )
    for dm in dms:
        who = f"@{case.get('customer_username')}" if dm.get("direction") == "customer" else "us (automated)"
        entries.append(
            Entry(at=str(dm.get("created_at") or ""), who=who, channel="X DM", text=str(dm["text"]))
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
