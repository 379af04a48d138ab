"""The parts of X API v2 payloads we rely on, validated so a malformed answer is refused whole.

Unknown fields are ignored (X adds fields over time); missing or mistyped ones we need are errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

TweetId = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]


class _XModel(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)


class PublicMetrics(_XModel):
    followers_count: int = 0
    following_count: int = 0
    tweet_count: int = 0


class XUser(_XModel):
    id: TweetId
    username: Annotated[str, Field(min_length=1, max_length=50)]
    name: str = ""
    verified: bool = False
    public_metrics: PublicMetrics = Field(default_factory=PublicMetrics)
    receives_your_dm: bool | None = None


class ReferencedTweet(_XModel):
    type: Literal["retweeted", "quoted", "replied_to"]
    id: TweetId


class MentionEntity(_XModel):
    username: str
    id: TweetId | None = None
    start: int | None = None


class Entities(_XModel):
    mentions: list[MentionEntity] = []


class PostMetrics(_XModel):
    quote_count: int = 0


class XTweet(_XModel):
    id: TweetId
    text: str
    author_id: TweetId
    conversation_id: TweetId | None = None
    created_at: datetime | None = None
    lang: str | None = None
    in_reply_to_user_id: TweetId | None = None
    referenced_tweets: list[ReferencedTweet] = []
    entities: Entities = Field(default_factory=Entities)
    # Where the author's own text begins: X prefixes a reply with @ of everyone in the parent.
    display_text_range: tuple[int, int] | None = None
    public_metrics: PostMetrics | None = None
    # X's default field: the ids of every version of an edited post, oldest first (one when never edited).
    edit_history_tweet_ids: list[TweetId] = []

    @property
    def edit_of(self) -> str | None:
        """The first version's id when this post is an edit of it (each edit is a new post on X)."""
        first = self.edit_history_tweet_ids[0] if self.edit_history_tweet_ids else self.id
        return None if first == self.id else first

    def reference(self, kind: str) -> str | None:
        return next((ref.id for ref in self.referenced_tweets if ref.type == kind), None)

    def explicitly_mentions(self, username: str) -> bool:
        """Typed by the author, not X's automatic reply prefix: only these summon (X's reply rule)."""
        body_start = self.display_text_range[0] if self.display_text_range else 0
        return any(
            m.username.lower() == username.lower() and (m.start is None or m.start >= body_start)
            for m in self.entities.mentions
        )

    @property
    def is_retweet(self) -> bool:
        return self.reference("retweeted") is not None


class XDmEvent(_XModel):
    id: TweetId
    text: str
    sender_id: TweetId
    created_at: datetime | None = None
    dm_conversation_id: str | None = None


class Includes(_XModel):
    users: list[XUser] = []
    tweets: list[XTweet] = []


class PageMeta(_XModel):
    result_count: Annotated[int, Field(ge=0)]
    newest_id: TweetId | None = None
    oldest_id: TweetId | None = None
    next_token: str | None = None
    previous_token: str | None = None


class MentionsPage(_XModel):
    data: list[XTweet] = []
    includes: Includes = Field(default_factory=Includes)
    meta: PageMeta


class DmEventsPage(_XModel):
    data: list[XDmEvent] = []
    meta: PageMeta


class RateLimit(_XModel):
    """The x-rate-limit-* headers of one response."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0
