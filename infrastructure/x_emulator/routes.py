"""The X API v2 routes the emulator serves: one handler each, and the route table that names them.

A handler takes the emulator, the request, the authenticated user and the path's arguments, and
returns (JSON body, status) or raises a ProblemError. It runs under the world's lock.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.wrappers import Request

from x_emulator.billing import usage_capped
from x_emulator.problems import PROBLEMS, ProblemError, invalid
from x_emulator.rules import (
    BLOCKED_BY_AUTHOR,
    MAX_TEXT,
    REPLY_TARGET_GONE,
    TOO_LONG,
    has_url,
    weighted_length,
)
from x_emulator.world import DmEvent, Post, User

if TYPE_CHECKING:
    from x_emulator.server import XApiEmulator

Answer = tuple[dict[str, Any], int]
Handler = Callable[..., Answer]


@dataclass(frozen=True)
class Route:
    name: str  # also the rate-limit and fault key
    method: str
    path: str  # werkzeug rule syntax
    handler: Handler
    query: tuple[str, ...] = ()  # the query parameters X accepts here; any other is a 400

    def check_query(self, request: Request) -> None:
        """X refuses any query parameter the route does not define (a typo is not silently ignored)."""
        for name in request.args:
            if name not in self.query:
                raise invalid(
                    name,
                    request.args[name],
                    f"The query parameter [{name}] is not one of [{','.join(self.query)}]",
                )


# Fields and expansions accepted on post timelines (the spec's getUsersMentions and getPostsQuotedPosts);
# `post.fields` is spec 2.167's new name for `tweet.fields` (xdk sends it), so both are accepted.
POST_FIELDS_PARAMS = (
    "expansions",
    "tweet.fields",
    "post.fields",
    "media.fields",
    "poll.fields",
    "user.fields",
    "place.fields",
)


# --- parameters --------------------------------------------------------------------------------


def fields(request: Request, name: str) -> set[str]:
    return {f for f in request.args.get(name, "").split(",") if f}


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(
            name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        )
    return int(raw)


def id_arg(request: Request, name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise invalid(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
    return int(raw)


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise invalid("body", "", "Request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise invalid("body", "", "Request body must be a JSON object")
    return body


def page_token(direction: str, post_id: str) -> str:
    """Opaque like X's (base32hex): "n" pages to ids older than post_id, "p" to ids newer."""
    return base64.b32hexencode(f"{direction}{post_id}".encode()).decode().rstrip("=").lower()


def untoken(token: str) -> tuple[str, int]:
    try:
        raw = base64.b32hexdecode(token.upper() + "=" * (-len(token) % 8)).decode()
        if raw[:1] not in ("n", "p"):
            raise ValueError(raw)
        return raw[0], int(raw[1:])
    except ValueError as exc:
        raise invalid("pagination_token", token, "The `pagination_token` query parameter is invalid") from exc


T = TypeVar("T", bound="Post | DmEvent")


def paginate(items: list[T], max_results: int, token: str | None) -> tuple[list[T], dict[str, Any]]:
    """One page of a newest-first list, and the meta tokens X gives with it (next and previous)."""
    start, end = 0, max_results
    if token:
        direction, pivot = untoken(token)
        if direction == "n":
            start = next((i for i, item in enumerate(items) if int(item.id) < pivot), len(items))
            end = start + max_results
        else:
            end = sum(1 for item in items if int(item.id) > pivot)
            start = max(0, end - max_results)
    page = items[start:end]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
    if end < len(items) and page:
        meta["next_token"] = page_token("n", page[-1].id)
    if start > 0 and page:
        meta["previous_token"] = page_token("p", page[0].id)
    return page, meta


def today(api: XApiEmulator) -> str:
    return api.clock.now().astimezone(UTC).strftime("%Y-%m-%d")


# --- handlers ----------------------------------------------------------------------------------


def me(api: XApiEmulator, request: Request, user: User) -> Answer:
    api.ledger.charge("user_read")
    return {"data": user.public(fields(request, "user.fields"), None, api.world)}, 200


def not_found_user(user_id: str) -> Answer:
    """X answers a lookup of an unknown (or suspended) user with 200 and `errors`, not a 404."""
    error = {
        "value": user_id,
        "detail": f"Could not find user with id: [{user_id}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": "id",
        "resource_id": user_id,
        "type": PROBLEMS + "resource-not-found",
    }
    return {"errors": [error]}, 200


def timeline(
    api: XApiEmulator, request: Request, user: User, posts: list[Post], *, min_results: int, default: int
) -> tuple[dict[str, Any], list[Post]]:
    """A newest-first page of posts with X's fields, expansions and meta (shared by post timelines)."""
    world = api.world
    max_results = int_arg(request, "max_results", default, min_results, 100)
    since_id, until_id = id_arg(request, "since_id"), id_arg(request, "until_id")
    if since_id is not None and until_id is not None and since_id >= until_id:
        raise invalid("since_id", since_id, "since_id must be less than until_id")
    selected = [
        p
        for p in posts
        if (since_id is None or int(p.id) > since_id) and (until_id is None or int(p.id) < until_id)
    ]
    page, meta = paginate(selected, max_results, request.args.get("pagination_token"))
    tweet_fields = fields(request, "tweet.fields") | fields(request, "post.fields")
    user_fields = fields(request, "user.fields")
    expansions = fields(request, "expansions")
    if "entities.mentions.username" in expansions:
        tweet_fields |= {"entities"}
    if "author_id" in expansions:
        tweet_fields |= {"author_id"}
    payload: dict[str, Any] = {}
    if page:
        payload["data"] = [p.public(tweet_fields, world) for p in page]
        includes: dict[str, list[dict[str, Any]]] = {}
        user_ids: dict[str, None] = {}
        if "author_id" in expansions:
            user_ids.update((p.author_id, None) for p in page)
        if "in_reply_to_user_id" in expansions:
            user_ids.update((p.in_reply_to_user_id, None) for p in page if p.in_reply_to_user_id)
        if user_ids:
            includes["users"] = [world.users[i].public(user_fields, user, world) for i in user_ids]
        if "referenced_tweets.id" in expansions:
            referenced = {r["id"] for p in page for r in p.references()}
            includes["tweets"] = [
                post.public(tweet_fields, world)
                for post in map(world.visible_post, sorted(referenced))
                if post is not None
            ]
        if includes:
            payload["includes"] = includes
    payload["meta"] = meta
    return payload, page


def bill_post_reads(api: XApiEmulator, user: User, target: User, page: list[Post]) -> None:
    """Owned reads ($0.001) only for the app owner reading its own timelines; other reads $0.005."""
    owned = target.id == user.id and api.is_app_owner(user)
    api.ledger.charge_reads(
        "owned_read" if owned else "post_read", [(p.id, p.author_id) for p in page], today(api)
    )


def mentions(api: XApiEmulator, request: Request, user: User, user_id: str) -> Answer:
    target = api.world.users.get(user_id)
    if target is None:
        return not_found_user(user_id)
    if api.ledger.post_reads_capped:
        raise usage_capped()
    # The timeline keeps only the newest 800 mentions; older ones are simply not there.
    payload, page = timeline(
        api, request, user, api.world.mentions_of(target)[:800], min_results=5, default=10
    )
    bill_post_reads(api, user, target, page)
    return payload, 200


def user_posts(api: XApiEmulator, request: Request, user: User, user_id: str) -> Answer:
    target = api.world.users.get(user_id)
    if target is None:
        return not_found_user(user_id)
    if api.ledger.post_reads_capped:
        raise usage_capped()
    # The user's own timeline reaches back 3,200 posts.
    payload, page = timeline(api, request, user, api.world.posts_by(target)[:3200], min_results=5, default=10)
    bill_post_reads(api, user, target, page)
    return payload, 200


def quote_posts(api: XApiEmulator, request: Request, user: User, tweet_id: str) -> Answer:
    quoted = api.world.visible_post(tweet_id)
    if quoted is None:
        error = {
            "value": tweet_id,
            "detail": f"Could not find tweet with id: [{tweet_id}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "id",
            "resource_id": tweet_id,
            "type": PROBLEMS + "resource-not-found",
        }
        return {"errors": [error]}, 200
    if api.ledger.post_reads_capped:
        raise usage_capped()
    exclude = fields(request, "exclude")
    quotes = [p for p in api.world.quotes_of(quoted) if not ("replies" in exclude and p.in_reply_to_tweet_id)]
    payload, page = timeline(api, request, user, quotes, min_results=10, default=10)
    api.ledger.charge_reads("post_read", [(p.id, p.author_id) for p in page], today(api))
    return payload, 200


def create_tweet(api: XApiEmulator, request: Request, user: User) -> Answer:
    world, rules = api.world, api.rules
    body = body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text", text, "text is required")
    length = weighted_length(text)
    if length > MAX_TEXT:
        raise invalid("text", length, TOO_LONG)
    deep_link = body.get("direct_message_deep_link")
    if deep_link is not None and not str(deep_link).startswith(
        f"https://twitter.com/messages/compose?recipient_id={user.id}"
    ):
        raise invalid(
            "direct_message_deep_link", deep_link, "direct_message_deep_link must open a DM with you"
        )
    if body.get("quote_tweet_id"):
        rules.refuse_quote(user)
    reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    target = None
    if reply_to is not None:
        target = world.visible_post(str(reply_to))
        if target is None:  # deleted by its author, or never there: X's answer (its v1.1 code 385)
            raise ProblemError(403, "Forbidden", REPLY_TARGET_GONE)
        if world.blocks(world.users[target.author_id], user):  # the customer blocked us
            raise ProblemError(403, "Forbidden", BLOCKED_BY_AUTHOR)
        rules.check_summoned(user, target)
    rules.check_duplicate(user, text)
    if target is not None:
        rules.record_second_reply(user, target)  # policy, not refused over HTTP: recorded only
    post = world.add_post(
        user.id,
        text,
        reply_to=target.id if target else None,
        via_api=True,
        direct_message_deep_link=deep_link,
    )
    concerning = target.author_id if target is not None else None
    if has_url(text):
        api.ledger.charge("post_with_url", concerning=concerning)
    elif target is not None and target.author_id != user.id:
        api.ledger.charge("summoned_reply", concerning=concerning)
    else:
        api.ledger.charge("post_create", concerning=concerning)
    return {
        "data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": post.edit_history or [post.id]}
    }, 201


def create_dm(api: XApiEmulator, request: Request, user: User, participant_id: str) -> Answer:
    body = body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text", text, "text is required")
    if len(text) > 10_000:
        raise invalid("text", len(text), "DM text is longer than 10000 characters.")
    recipient = api.world.users.get(participant_id)
    if recipient is None or recipient.id == user.id:
        raise invalid("participant_id", participant_id, "participant_id is not a valid recipient")
    api.rules.check_dm(user, recipient)
    event = api.world.add_dm(user.id, recipient.id, text, via_api=True)
    api.ledger.charge("dm_create", concerning=recipient.id)
    return {"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}}, 201


def dm_events(api: XApiEmulator, request: Request, user: User) -> Answer:
    world = api.world
    max_results = int_arg(request, "max_results", 100, 1, 100)
    event_types = fields(request, "event_types") or {"MessageCreate"}
    unknown = event_types - {"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"}
    if unknown:
        raise invalid(
            "event_types", ",".join(sorted(unknown)), "The `event_types` query parameter value is not valid"
        )
    # The world only has MessageCreate events (X keeps 30 days of them).
    events = world.dm_events_for(user) if "MessageCreate" in event_types else []
    page, meta = paginate(events, max_results, request.args.get("pagination_token"))
    meta.pop("newest_id", None), meta.pop("oldest_id", None)  # not part of a DM events page's meta
    event_fields = fields(request, "dm_event.fields")
    expand_senders = "sender_id" in fields(request, "expansions")
    if expand_senders:
        event_fields |= {"sender_id"}
    payload: dict[str, Any] = {}
    if page:
        payload["data"] = [e.public(event_fields) for e in page]
        if expand_senders:
            senders = dict.fromkeys(e.sender_id for e in page)
            payload["includes"] = {
                "users": [world.users[i].public(fields(request, "user.fields"), user, world) for i in senders]
            }
    payload["meta"] = meta
    api.ledger.charge_reads(
        "dm_event_read",
        [(e.id, e.recipient_id if e.sender_id == user.id else e.sender_id) for e in page],
        today(api),
    )
    return payload, 200


def retweet(api: XApiEmulator, request: Request, user: User, user_id: str) -> Answer:
    world = api.world
    if user_id != user.id:
        raise ProblemError(403, "Forbidden", "You are not permitted to retweet on behalf of another user.")
    tweet_id = str(body_of(request).get("tweet_id", ""))
    if world.visible_post(tweet_id) is None:
        raise invalid("tweet_id", tweet_id, "Post to retweet does not exist.")
    if (user.id, tweet_id) in world.retweets:
        api.rules.record_duplicate_retweet(user)
        return {"data": {"retweeted": True}}, 200
    world.retweets.append((user.id, tweet_id))
    world.add_post(user.id, retweet_of=tweet_id, via_api=True)
    api.ledger.charge("retweet", concerning=world.posts[tweet_id].author_id)
    return {"data": {"retweeted": True}}, 200


def like(api: XApiEmulator, request: Request, user: User, user_id: str) -> Answer:
    api.rules.refuse_like(user)


TIMELINE_PARAMS = ("since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time")
ROUTES = (
    Route("me", "GET", "/2/users/me", me, ("expansions", "tweet.fields", "post.fields", "user.fields")),
    Route("mentions", "GET", "/2/users/<user_id>/mentions", mentions, TIMELINE_PARAMS + POST_FIELDS_PARAMS),
    Route(
        "user_posts",
        "GET",
        "/2/users/<user_id>/tweets",
        user_posts,
        (*TIMELINE_PARAMS, "exclude", *POST_FIELDS_PARAMS),
    ),
    Route(
        "quote_posts",
        "GET",
        "/2/tweets/<tweet_id>/quote_tweets",
        quote_posts,
        ("max_results", "pagination_token", "exclude", *POST_FIELDS_PARAMS),
    ),
    Route("create_tweet", "POST", "/2/tweets", create_tweet),
    Route("create_dm", "POST", "/2/dm_conversations/with/<participant_id>/messages", create_dm),
    Route(
        "dm_events",
        "GET",
        "/2/dm_events",
        dm_events,
        (
            "max_results",
            "pagination_token",
            "event_types",
            "dm_event.fields",
            "expansions",
            "media.fields",
            "user.fields",
            "tweet.fields",
            "post.fields",
        ),
    ),
    Route("retweet", "POST", "/2/users/<user_id>/retweets", retweet),
    Route("like", "POST", "/2/users/<user_id>/likes", like),
)
