"""Domain models stored in DynamoDB and passed between functions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# "unsure": the model could not decide (or cannot read the language): a person triages it.
Category = Literal["complaint", "unsure", "praise", "question", "spam", "other"]
Severity = Literal["charged", "complex", "simple"]


class Triage(BaseModel):
    """What ingest decided about a post; stored with the mention."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    category: Category
    sentiment: Annotated[float, Field(ge=-1, le=1)]
    severity: Severity | None = None
    priority: Annotated[int, Field(ge=1, le=4)] = 4
    reasons: list[str] = []
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None  # the model's P(complaint)
    lang: str | None = None  # X's BCP 47 tag for the post, when X sent one
    # The P(complaint) the automated public ack of this complaint needs, beyond the playbook's
    # acknowledge.min_confidence: set for a post that thanks or praises (the model card's
    # praise_ack); below it the case opens and the rep writes the first reply.
    ack_bar: Annotated[float, Field(ge=0, le=1)] | None = None
    # The sensitive situation the post names (safety, injury or health, bereavement, ...:
    # logic/triage_sensitive.py): priority 1, no automated ack, the supervisor copied.
    sensitive: str | None = None

    @property
    def is_complaint(self) -> bool:
        return self.category == "complaint"

    @property
    def goes_offline(self) -> bool:
        """Charged or complex complaints move to DM; simple ones can be settled in public."""
        return self.severity in ("charged", "complex")


class Author(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str
    username: str
    name: str = ""
    followers: int = 0
    verified: bool = False
    receives_your_dm: bool | None = None


class Mention(BaseModel):
    """One post that mentions a monitored handle, stored exactly once."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    tweet_id: str
    handle: str
    text: str
    author: Author
    created_at: datetime | None
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    quoted_tweet_id: str | None = None
    edit_of: str | None = None  # an edit of this earlier post (its first version): the same interaction
    # A reply to the post of ours that started its thread (an outage notice, a promotion): many
    # complaints under it within a window are one incident, not a reply storm (workflow/assign.py)
    under_our_post: bool = False
    quotes_our_post: bool = False  # a quote-post of one of ours: a backlash by quotes counts the same
    mentions_handle: bool
    triage: Triage
    case_id: str | None = None
    ingested_at: datetime

    @property
    def answers_our_post(self) -> str | None:
        """The post of ours this one answers, in a direct reply to it or by quoting it: many
        complaints doing so within a window are one incident of that post (workflow/assign.py)."""
        if self.under_our_post:
            return self.conversation_id
        return self.quoted_tweet_id if self.quotes_our_post else None


class Checkpoint(BaseModel):
    """Per-handle polling state. ``since_id`` only moves forward, and only after a whole pass is durable.

    ``pending_newest_id``/``resume_until_id`` describe a pass that was interrupted (429, crash): the
    next run fetches only what is older than ``resume_until_id`` and newer than ``since_id``.
    """

    model_config = ConfigDict(defer_build=True)

    handle: str
    user_id: str | None = None
    since_id: str | None = None
    pending_newest_id: str | None = None
    resume_until_id: str | None = None
    rate_limited_until: datetime | None = None
    dm_newest_id: str | None = None
    dm_rate_limited_until: datetime | None = None
    quotes_checked_at: datetime | None = None  # the quote watch's last check (read with the mention poll's)
    # Offline cases whose customer DMed before the workflow gave the case a rep: their one
    # confirmation DM names the rep, so the DM poller sends it on the first pass after assignment.
    dm_confirms_pending: list[str] = Field(default_factory=list)


class WatchedPost(BaseModel):
    """One of our recent posts watched for quotes: how many quotes X counted, the newest we read."""

    model_config = ConfigDict(defer_build=True)

    quotes: int = 0
    newest: str | None = None


class QuoteWatch(BaseModel):
    """Per-handle quote watch: our recent posts by id, and when they were last checked."""

    model_config = ConfigDict(defer_build=True)

    posts: dict[str, WatchedPost] = {}
    checked_at: datetime | None = None


class HandlePollResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    handle: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped_own: int = 0
    skipped_retweets: int = 0
    cases_opened: int = 0
    attached_to_case: int = 0
    pages: int = 0
    complete: bool = True
    rate_limited_until: datetime | None = None
    since_id: str | None = None
    # The pass could not reach since_id: more mentions arrived than X's timeline keeps (800).
    beyond_reach: bool = False
    rate_limit_remaining: int | None = None
    passes: int = 1
