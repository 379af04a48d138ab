"""The emulator's world: users, posts and DM events, with X's id and visibility semantics."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

TWITTER_EPOCH_MS = 1288834974657
EDIT_WINDOW = timedelta(minutes=30)  # X: a post can be edited for 30 minutes, at most 5 times
EDITS_ALLOWED = 5
MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
DM_HISTORY = timedelta(days=30)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int = 0
    following: int = 0
    verified: bool = False
    # "open": accepts DMs from anyone; "closed": only from people they message first.
    dms: str = "closed"
    # Simulates "Cannot send to user" (blocked us, or DMs off entirely) even after they DMed us.
    dm_refuse: bool = False
    access_token: str | None = None
    access_token_secret: str | None = None
    # The accounts this user blocks, by id, from when: a blocked account can't reply to or DM them.
    blocking: dict[str, datetime] = field(default_factory=dict)

    def public(self, fields: set[str], viewer: User | None, world: World) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "name": self.name, "username": self.username}
        if "verified" in fields:
            body["verified"] = self.verified
        if "public_metrics" in fields:
            body["public_metrics"] = {
                "followers_count": self.followers,
                "following_count": self.following,
                "tweet_count": sum(1 for p in world.posts.values() if p.author_id == self.id),
                "listed_count": 0,
            }
        if "receives_your_dm" in fields and viewer is not None:
            body["receives_your_dm"] = world.can_dm(viewer, self)
        if "created_at" in fields:
            body["created_at"] = "2015-01-01T00:00:00.000Z"
        return body


@dataclass
class Post:
    id: str
    author_id: str
    text: str
    created_at: datetime
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    quote_of: str | None = None
    retweet_of: str | None = None
    mentions: list[str] = field(default_factory=list)  # lower-cased usernames, implicit ones too
    direct_message_deep_link: str | None = None
    via_api: bool = False
    lang: str = "en"
    # Where what the author typed begins: a reply starts with X's automatic "@parent @others " prefix.
    display_start: int = 0
    deleted_at: datetime | None = None  # its author deleted it: gone from every timeline from then
    # X's edits: each edit is a new post; the versions' ids, oldest first (X's default field), and
    # when a newer version replaced this one on timelines (it stays readable by id).
    edit_history: list[str] = field(default_factory=list)
    superseded_at: datetime | None = None

    def visible_at(self, now: datetime) -> bool:
        return self.created_at <= now and (self.deleted_at is None or now < self.deleted_at)

    def current_at(self, now: datetime) -> bool:
        """On timelines: visible and not replaced by a newer version."""
        return self.visible_at(now) and (self.superseded_at is None or now < self.superseded_at)

    @property
    def explicit_mentions(self) -> list[str]:
        """Mentions the author typed (after the reply prefix): the only ones that summon."""
        return [m.group(1).lower() for m in MENTION.finditer(self.text) if m.start() >= self.display_start]

    def references(self) -> list[dict[str, str]]:
        refs = []
        if self.retweet_of:
            refs.append({"type": "retweeted", "id": self.retweet_of})
        if self.quote_of:
            refs.append({"type": "quoted", "id": self.quote_of})
        if self.in_reply_to_tweet_id:
            refs.append({"type": "replied_to", "id": self.in_reply_to_tweet_id})
        return refs

    def public(self, fields: set[str], world: World) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "edit_history_tweet_ids": self.edit_history or [self.id],
        }
        if "author_id" in fields:
            body["author_id"] = self.author_id
        if "created_at" in fields:
            body["created_at"] = iso(self.created_at)
        if "conversation_id" in fields:
            body["conversation_id"] = self.conversation_id
        if "lang" in fields:
            body["lang"] = self.lang
        if "display_text_range" in fields:
            body["display_text_range"] = [self.display_start, len(self.text)]
        if "in_reply_to_user_id" in fields and self.in_reply_to_user_id:
            body["in_reply_to_user_id"] = self.in_reply_to_user_id
        if "referenced_tweets" in fields and self.references():
            body["referenced_tweets"] = self.references()
        if "entities" in fields and self.mentions:
            entities = []
            for match in MENTION.finditer(self.text):
                user = world.user_by_name(match.group(1))
                if user:
                    entities.append(
                        {"start": match.start(), "end": match.end(), "username": user.username, "id": user.id}
                    )
            body["entities"] = {"mentions": entities}
        if "public_metrics" in fields:
            body["public_metrics"] = {
                "reply_count": sum(1 for p in world.visible_posts() if p.in_reply_to_tweet_id == self.id),
                "retweet_count": sum(1 for p in world.visible_posts() if p.retweet_of == self.id),
                "quote_count": sum(1 for p in world.visible_posts() if p.quote_of == self.id),
                "like_count": 0,
            }
        return body


@dataclass
class DmEvent:
    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at: datetime
    via_api: bool = False

    @property
    def conversation_id(self) -> str:
        low, high = sorted((self.sender_id, self.recipient_id), key=int)
        return f"{low}-{high}"

    def public(self, fields: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "event_type": "MessageCreate", "text": self.text}
        if "sender_id" in fields:
            body["sender_id"] = self.sender_id
        if "created_at" in fields:
            body["created_at"] = iso(self.created_at)
        if "dm_conversation_id" in fields:
            body["dm_conversation_id"] = self.conversation_id
        if "participant_ids" in fields:
            body["participant_ids"] = [self.sender_id, self.recipient_id]
        return body


class World:
    """All state, guarded by one lock; the HTTP layer takes it for each request."""

    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.posts: dict[str, Post] = {}
        self.dms: list[DmEvent] = []
        self.retweets: list[tuple[str, str]] = []
        self._sequence = itertools.count(1)
        self._user_ids = itertools.count(10_000)

    # --- ids ---------------------------------------------------------------------------------

    def snowflake(self, when: datetime) -> str:
        """Time-ordered ids like X's: newer posts always have larger ids."""
        millis = int(when.timestamp() * 1000) - TWITTER_EPOCH_MS
        return str((millis << 22) | (next(self._sequence) & 0x3FFFFF))

    # --- users -------------------------------------------------------------------------------

    def add_user(self, username: str, *, id: str | None = None, **attributes: Any) -> User:
        with self.lock:
            user = User(
                id=id or str(next(self._user_ids)),
                username=username,
                name=attributes.pop("name", username),
                **attributes,
            )
            self.users[user.id] = user
            return user

    def user_by_name(self, username: str) -> User | None:
        wanted = username.lower().lstrip("@")
        return next((u for u in self.users.values() if u.username.lower() == wanted), None)

    def user_by_token(self, token: str) -> User | None:
        return next((u for u in self.users.values() if u.access_token == token), None)

    def require_user(self, ref: str) -> User:
        user = self.users.get(ref) or self.user_by_name(ref)
        if user is None:
            raise KeyError(f"no user {ref!r} in the emulator")
        return user

    # --- posts -------------------------------------------------------------------------------

    def add_post(
        self,
        author: str,
        text: str = "",
        *,
        at: datetime | None = None,
        reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        via_api: bool = False,
        direct_message_deep_link: str | None = None,
        lang: str = "en",
    ) -> Post:
        """A post; a reply gets X's automatic prefix: @ of the parent's author and of everyone the
        parent mentions (not the replier, nor anyone the typed text already mentions)."""
        with self.lock:
            user = self.require_user(author)
            when = at or self.clock()
            post_id = self.snowflake(when)
            parent = self.posts.get(reply_to) if reply_to else None
            if reply_to and parent is None:
                raise KeyError(f"no post {reply_to} to reply to")
            if retweet_of:
                original = self.posts[retweet_of]
                original_author = self.users[original.author_id]
                text = f"RT @{original_author.username}: {original.text}"
            display_start = 0
            if parent is not None:
                typed = {m.lower() for m in MENTION.findall(text)}
                named = [self.users[parent.author_id].username]
                named += [u.username for u in map(self.user_by_name, parent.mentions) if u is not None]
                prefix = [
                    name
                    for name in dict.fromkeys(named)
                    if name.lower() not in typed and name.lower() != user.username.lower()
                ]
                if prefix:
                    leading = " ".join(f"@{name}" for name in prefix) + " "
                    text, display_start = leading + text, len(leading)
            post = Post(
                id=post_id,
                author_id=user.id,
                text=text,
                created_at=when,
                conversation_id=parent.conversation_id if parent else post_id,
                in_reply_to_tweet_id=parent.id if parent else None,
                in_reply_to_user_id=parent.author_id if parent else None,
                quote_of=quote_of,
                retweet_of=retweet_of,
                mentions=[m.lower() for m in MENTION.findall(text)],
                via_api=via_api,
                direct_message_deep_link=direct_message_deep_link,
                lang=lang,
                display_start=display_start,
            )
            self.posts[post.id] = post
            return post

    def visible_posts(self) -> Iterator[Post]:
        """What timelines show now: each post's latest version, none deleted or still to come."""
        now = self.clock()
        return (p for p in self.posts.values() if p.current_at(now))

    def visible_post(self, post_id: str) -> Post | None:
        """The post as X shows it now: None once deleted (or before it is posted)."""
        post = self.posts.get(post_id)
        return post if post is not None and post.visible_at(self.clock()) else None

    def delete_post(self, post_id: str, *, at: datetime | None = None) -> Post:
        """Its author deletes it (now, or at ``at``): replies to it stay, it leaves every timeline.
        Deleting any version of an edited post deletes them all (X's edit rules)."""
        with self.lock:
            post = self.posts[post_id]
            for version in post.edit_history or [post.id]:
                self.posts[version].deleted_at = at or self.clock()
            return post

    def edit_post(self, post_id: str, text: str, *, at: datetime | None = None) -> Post:
        """Its author edits it: a new post with a new id replaces it on timelines (X's edit rules:
        the latest version, within 30 minutes of the first, at most 5 edits; a reply to someone
        else's post cannot be edited). The new version of a thread's first post starts its own
        conversation id here: X's docs do not say it keeps the first version's, so code that reads
        the emulator must tell versions apart by ``edit_history_tweet_ids``, as X documents."""
        with self.lock:
            old = self.posts[post_id]
            when = at or self.clock()
            history = old.edit_history or [old.id]
            first = self.posts[history[0]]
            if history[-1] != old.id:
                raise ValueError(f"post {post_id} is not the latest version of its edit chain")
            if old.in_reply_to_user_id not in (None, old.author_id):
                raise ValueError("X does not allow editing a reply to someone else's post")
            if len(history) > EDITS_ALLOWED or when - first.created_at > EDIT_WINDOW:
                raise ValueError(f"post {history[0]} can no longer be edited (5 edits within 30 minutes)")
            new = self.add_post(
                self.users[old.author_id].username,
                text,
                at=when,
                reply_to=old.in_reply_to_tweet_id,
                quote_of=old.quote_of,
                lang=old.lang,
            )
            new.edit_history = [*history, new.id]
            for version in history:
                self.posts[version].edit_history = new.edit_history
            old.superseded_at = when
            return new

    def mentions_of(self, user: User) -> list[Post]:
        """Newest first, like X's mentions timeline."""
        name = user.username.lower()
        found = [p for p in self.visible_posts() if name in p.mentions]
        return sorted(found, key=lambda p: int(p.id), reverse=True)

    def posts_by(self, user: User) -> list[Post]:
        """Newest first, like X's user posts timeline (retweets included)."""
        found = [p for p in self.visible_posts() if p.author_id == user.id]
        return sorted(found, key=lambda p: int(p.id), reverse=True)

    def quotes_of(self, post: Post) -> list[Post]:
        """Newest first: the posts quoting this one."""
        found = [p for p in self.visible_posts() if p.quote_of == post.id]
        return sorted(found, key=lambda p: int(p.id), reverse=True)

    def summoned(self, replier: User, target: Post) -> bool:
        """X's 2026 rule: reply only where the author mentioned or quoted us, or it is our own post.
        The automatic @ prefix of a reply does not count: only mentions the author typed."""
        if target.author_id == replier.id or replier.username.lower() in target.explicit_mentions:
            return True
        quoted = self.posts.get(target.quote_of) if target.quote_of else None
        return quoted is not None and quoted.author_id == replier.id

    # --- DMs ---------------------------------------------------------------------------------

    def add_dm(
        self, sender: str, recipient: str, text: str, *, at: datetime | None = None, via_api: bool = False
    ) -> DmEvent:
        with self.lock:
            source, target = self.require_user(sender), self.require_user(recipient)
            when = at or self.clock()
            event = DmEvent(
                id=self.snowflake(when),
                sender_id=source.id,
                recipient_id=target.id,
                text=text,
                created_at=when,
                via_api=via_api,
            )
            self.dms.append(event)
            return event

    def has_messaged(self, sender: User, recipient: User) -> bool:
        now = self.clock()
        return any(
            d.sender_id == sender.id and d.recipient_id == recipient.id and d.created_at <= now
            for d in self.dms
        )

    def block(self, blocker: str, blocked: str, *, at: datetime | None = None) -> None:
        """``blocker`` blocks ``blocked`` (now, or at ``at``): no more replies or DMs from them."""
        with self.lock:
            self.require_user(blocker).blocking[self.require_user(blocked).id] = at or self.clock()

    def blocks(self, blocker: User, other: User) -> bool:
        since = blocker.blocking.get(other.id)
        return since is not None and since <= self.clock()

    def can_dm(self, sender: User, recipient: User) -> bool:
        if recipient.dm_refuse or self.blocks(recipient, sender):
            return False
        return recipient.dms == "open" or self.has_messaged(recipient, sender)

    def dm_events_for(self, user: User) -> list[DmEvent]:
        now = self.clock()
        events = [
            d
            for d in self.dms
            if user.id in (d.sender_id, d.recipient_id) and now - DM_HISTORY <= d.created_at <= now
        ]
        return sorted(events, key=lambda d: int(d.id), reverse=True)
