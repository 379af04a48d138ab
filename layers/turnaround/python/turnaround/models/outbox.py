"""The outbox: one claim per external effect (reply, DM, retweet, email), and the posting hold."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class OutboxClaim(BaseModel):
    """The claim on one effect: PENDING while it is being made, DONE once recorded."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    state: Literal["PENDING", "DONE"]
    claimed_at: datetime | None = None
    channel: str | None = None  # where the effect went (dm, public, x_dm, x_public, none)
    result_id: str | None = None  # the post, DM or email it made
    completed_at: datetime | None = None
    outcome: str | None = None
    headline: str | None = None
    # Settled without being made: another effect that must not follow it went first (the rep's
    # emailed reply pre-empts the automated ack). Names that effect.
    pre_empted_by: str | None = None


class PostingHold(BaseModel):
    """Present while X's billing stop holds all posting; ops delete the item to resume."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    since: str  # ISO 8601; names the episode, so it is kept exactly as stored
    reason: str
