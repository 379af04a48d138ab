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
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from x_emulator.billing import usage_capped
from x_emulator.problems import PROBLEMS, ProblemError, invalid
from x_emulator.rules import MAX_TEXT
from x_emulator.world import User

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


def page_token(after_id: str) -> str:
    return base64.urlsafe_b64encode(after_id.encode()).decode().rstrip("=")


def untoken(token: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except ValueError as exc:
        raise invalid("pagination_token", token, "The `pagination_token` query parameter is invalid") from exc


def today(api: XApiEmulator) -> str:
    return api.clock.now().astimezone(UTC).strftime("%Y-%m-%d")


# --- handlers ----------------------------------------------------------------------------------


def me(api: XApiEmulator, request: Request, user: User) -> Answer:
    api.ledger.charge("user_read")
    return {"data": user.public(fields(request, "user.fields"), None, api.world)}, 200


def mentions(api: XApiEmulator, request: Request, user: User, user_id: str) -> Answer:
    world = api.world
    target = world.users.get(user_id)
    if target is None:
        raise ProblemError(
            404,
            "Not Found Error",
            f"Could not find user with id: [{user_id}].",
            PROBLEMS + "resource-not-found",
        )
    max_results = int_arg(request, "max_results", 10, 5, 100)
    since_id, until_id = id_arg(request, "since_id"), id_arg(request, "until_id")
    token = request.args.get("pagination_token")
    before = untoken(token) if token else None
    owned = target.id == user.id
    if api.ledger.post_reads_capped:
        raise usage_capped()
    # The timeline keeps only the newest 800 mentions; older ones are simply not there.
    reachable = world.mentions_of(target)[:800]
    selected = [
        p
        for p in reachable
        if (since_id is None or int(p.id) > since_id)
        and (until_id is None or int(p.id) < until_id)
        and (before is None or int(p.id) < before)
    ]
    page, rest = selected[:max_results], selected[max_results:]
    tweet_fields, user_fields = fields(request, "tweet.fields"), fields(request, "user.fields")
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
                world.posts[i].public(tweet_fields, world) for i in sorted(referenced) if i in world.posts
            ]
        if includes:
            payload["includes"] = includes
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
    if rest:
        meta["next_token"] = page_token(page[-1].id)
    payload["meta"] = meta
    api.ledger.charge_reads(
        "owned_read" if owned else "post_read", [(p.id, p.author_id) for p in page], today(api)
    )
    return payload, 200


def create_tweet(api: XApiEmulator, request: Request, user: User) -> Answer:
    world, rules = api.world, api.rules
    body = body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text", text, "text is required")
    if len(text) > MAX_TEXT:
        raise invalid("text", len(text), f"Your Tweet text is longer than {MAX_TEXT} characters.")
    deep_link = body.get("direct_message_deep_link")
    if deep_link is not None and not str(deep_link).startswith(
        f"https://twitter.com/messages/compose?recipient_id={user.id}"
    ):
        raise invalid(
            "direct_message_deep_link", deep_link, "direct_message_deep_link must open a DM with you"
        )
    if body.get("quote_tweet_id"):
        rules.check_quote(user)
    reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    target = None
    if reply_to is not None:
        target = world.posts.get(str(reply_to))
        if target is None:
            raise invalid("reply.in_reply_to_tweet_id", reply_to, "Post to reply to does not exist.")
        rules.check_reply(user, target)
    rules.check_duplicate(user, text)
    post = world.add_post(
        user.id,
        text,
        reply_to=target.id if target else None,
        via_api=True,
        direct_message_deep_link=deep_link,
    )
    concerning = target.author_id if target is not None else None
    if "http://" in text or "https://" in text:
        api.ledger.charge("post_with_url", concerning=concerning)
    elif target is not None and target.author_id != user.id:
        api.ledger.charge("summoned_reply", concerning=concerning)
    else:
        api.ledger.charge("post_create", concerning=concerning)
    return {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}}, 201


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
    token = request.args.get("pagination_token")
    before = untoken(token) if token else None
    events = [e for e in world.dm_events_for(user) if before is None or int(e.id) < before]
    page, rest = events[:max_results], events[max_results:]
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
    meta: dict[str, Any] = {"result_count": len(page)}
    if rest:
        meta["next_token"] = page_token(page[-1].id)
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
    if tweet_id not in world.posts:
        raise invalid("tweet_id", tweet_id, "Post to retweet does not exist.")
    if (user.id, tweet_id) in world.retweets:
        api.rules.record_duplicate_retweet(user)
        return {"data": {"retweeted": True}}, 200
    world.retweets.append((user.id, tweet_id))
    world.add_post(user.id, retweet_of=tweet_id, via_api=True)
    api.ledger.charge("retweet", concerning=world.posts[tweet_id].author_id)
    return {"data": {"retweeted": True}}, 200


def like(api: XApiEmulator, request: Request, user: User, user_id: str) -> Answer:
    api.rules.check_like(user)
    raise AssertionError("unreachable")


ROUTES = (
    Route("me", "GET", "/2/users/me", me),
    Route("mentions", "GET", "/2/users/<user_id>/mentions", mentions),
    Route("create_tweet", "POST", "/2/tweets", create_tweet),
    Route("create_dm", "POST", "/2/dm_conversations/with/<participant_id>/messages", create_dm),
    Route("dm_events", "GET", "/2/dm_events", dm_events),
    Route("retweet", "POST", "/2/users/<user_id>/retweets", retweet),
    Route("like", "POST", "/2/users/<user_id>/likes", like),
)
