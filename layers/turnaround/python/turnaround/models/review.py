"""The unsure queue's items: one per post triage could not decide, until a person decides it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from turnaround.models.keys import SignedClaim

Decision = Literal["open_case", "not_complaint"]


class ReviewClaim(SignedClaim):
    """What a digest's signed review link carries: which queued post, and the decision it makes."""

    handle: str
    review_key: str
    tweet_id: str
    decision: Decision


class ReviewItem(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    handle: str
    review_key: str = Field(validation_alias="sk")  # the zero-padded post id: oldest first
    tweet_id: str
    state: Literal["PENDING", "DECIDED"]
    queued_at: datetime
    digested_at: datetime | None = None  # claimed for a digest
    decision: Decision | None = None
    decided_at: datetime | None = None


class WaitingDm(BaseModel):
    """A customer's DM that no case could take (they have none open): it waits for the next unsure
    digest, which shows it once so a person answers it in X's inbox."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    handle: str
    review_key: str = Field(validation_alias="sk")  # the zero-padded event id: oldest first
    event_id: str
    sender_id: str
    text: str
    created_at: datetime | None = None
    queued_at: datetime
    digested_at: datetime | None = None
