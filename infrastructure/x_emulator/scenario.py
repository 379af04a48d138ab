"""Scenarios: YAML that seeds the emulator's users, timed posts, DMs and faults.

    start: 2026-11-22T09:00:00Z        # optional; the simulated clock starts here
    credits_usd: 25                     # optional pay-per-use balance; omitted = unlimited
    rate_limits: {mentions: 300}        # optional overrides per route (15-minute windows)
    daily_limits: {create_tweet: 10000} # optional overrides of the 24-hour windows
    brand: acmeair                      # the monitored handle; needs an access token
    app_owner: acmeair                  # owns the developer app (Owned Reads); default: brand,
                                        # else the first user with an access token
    users:
      - {username: acmeair, name: Acme Air, access_token: t, access_token_secret: s}
      - {username: jane, followers: 120000, verified: true, dms: open}
      - {username: hal, blocks: acmeair, blocks_at: 500}  # he blocks the brand then (default: 0)
    posts:                              # `at` is seconds after start; `key` names a post for later refs
      - {key: c1, author: jane, text: "@acmeair my bag is lost", at: 0}
      - {author: bob, reply_to: c1, text: "@acmeair @jane same!", at: 30, repeat: 40, every: 5}
      - {author: bob, retweet_of: c1, at: 60}
      - {author: ana, text: "@acmeair mi maleta no llegó", lang: es, at: 90}   # lang: en by default
      - {author: dan, quote_of: c1, text: "this again", at: 120}
      - {author: eve, text: "@acmeair never again", at: 150, deleted_at: 400}  # she deletes it
      - {key: f1, author: fay, text: "@acmeair my flihgt is late", at: 160}
      - {author: fay, edit_of: f1, text: "@acmeair my flight is late", at: 220}  # a new version

A reply gets X's automatic prefix: "@" of the parent's author and of everyone the parent mentions,
unless `text` already mentions them; those prefix mentions are not explicit (they do not summon).
    dms:
      - {sender: jane, recipient: acmeair, text: "Booking ref XK42P", at: 600}
    faults:
      - {route: mentions, kind: rate_limit, skip: 1, times: 1}

In `text` and `author` (and a repeated user's `username`, `name` and `id`), `{n}` is replaced by the
repeat number, so repeated posts are not duplicates and repeated users are told apart. `playbook`
(overrides of infrastructure/playbook.yaml), `rep_actions` (scripted clicks on the reps' emails) and
`incident_actions` (the supervisor's "End the incident now" in the newest digest of a topic's
incident, at a simulated second: `{topic: outage, action: end, at: 11400}`) are read by the local
cloud's runner.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from x_emulator.clock import SimulatedClock
from x_emulator.server import XApiEmulator

SCENARIO_KEYS = {
    "start",
    "credits_usd",
    "rate_limits",
    "daily_limits",
    "app_owner",
    "brand",
    "users",
    "posts",
    "dms",
    "faults",
    "consumer",
    "description",
    "expect",
    "rep_actions",
    "rep_replies",
    "incident_actions",
    "playbook",
}
USER_KEYS = {
    "username",
    "repeat",
    "id",
    "name",
    "followers",
    "following",
    "verified",
    "dms",
    "dm_refuse",
    "blocks",
    "blocks_at",
    "access_token",
    "access_token_secret",
}
POST_KEYS = {
    "key",
    "author",
    "text",
    "at",
    "reply_to",
    "quote_of",
    "retweet_of",
    "repeat",
    "every",
    "lang",
    "deleted_at",
    "edit_of",
}


class ScenarioError(ValueError):
    """The scenario file is not valid; the message names the entry."""


def _check_keys(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}; allowed {sorted(allowed)}")


def _first_token_holder(spec: dict[str, Any]) -> str | None:
    """The brand when the scenario names none: the first user with an access token."""
    return next((str(u["username"]) for u in spec.get("users") or [] if u.get("access_token")), None)


def load_scenario(
    source: str | Path | dict[str, Any], *, clock: SimulatedClock | None = None, **emulator_options: Any
) -> tuple[XApiEmulator, dict[str, str]]:
    """Build an emulator (not yet started) from a scenario; returns it and the post ids by key."""
    spec = yaml.safe_load(Path(source).read_text()) if isinstance(source, (str, Path)) else source
    if not isinstance(spec, dict):
        raise ScenarioError("a scenario is a mapping")
    _check_keys(spec, SCENARIO_KEYS, "scenario")
    start = spec.get("start")
    if isinstance(start, str):
        start = datetime.fromisoformat(start.replace("Z", "+00:00"))
    clock = clock or SimulatedClock(start or datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    origin = clock.now()
    consumer = spec.get("consumer") or {}
    if "key" in consumer:
        emulator_options["consumer_key"] = consumer["key"]
    if "secret" in consumer:
        emulator_options["consumer_secret"] = consumer["secret"]
    emulator = XApiEmulator(
        clock=clock,
        credits_usd=spec.get("credits_usd"),
        rate_limits=spec.get("rate_limits"),
        daily_limits=spec.get("daily_limits"),
        app_owner=spec.get("app_owner") or spec.get("brand") or _first_token_holder(spec),
        **emulator_options,
    )
    blocking: list[tuple[str, int, str, datetime]] = []
    for i, user in enumerate(spec.get("users") or []):
        _check_keys(user, USER_KEYS, f"users[{i}]")
        attributes = dict(user)
        count = int(attributes.pop("repeat", 1))
        username = str(attributes.pop("username"))
        blocks, blocks_at = attributes.pop("blocks", None), float(attributes.pop("blocks_at", 0))
        if blocks is not None:
            blocking.append((username, count, str(blocks), origin + timedelta(seconds=blocks_at)))
        for n in range(count):  # "fan{n}" with repeat: 30 makes fan1..fan30 (and "Fan {n}" Fan 1..)
            emulator.add_user(
                username.replace("{n}", str(n + 1)),
                **{
                    key: value.replace("{n}", str(n + 1)) if isinstance(value, str) else value
                    for key, value in attributes.items()
                },
            )
    for username, count, blocked, at in blocking:  # once every user exists
        for n in range(count):
            try:
                emulator.block(username.replace("{n}", str(n + 1)), blocked, at=at)
            except KeyError as exc:
                raise ScenarioError(f"users: {username} blocks {exc.args[0]}") from exc
    keys: dict[str, str] = {}

    def resolve(ref: Any, where: str) -> str | None:
        if ref is None:
            return None
        ref = str(ref)
        if ref in keys:
            return keys[ref]
        if ref in emulator.world.posts:
            return ref
        raise ScenarioError(f"{where}: no earlier post with key {ref!r}")

    for i, post in enumerate(spec.get("posts") or []):
        where = f"posts[{i}]"
        _check_keys(post, POST_KEYS, where)
        if "author" not in post:
            raise ScenarioError(f"{where}: author is required")
        for n in range(int(post.get("repeat", 1))):
            at = origin + timedelta(seconds=float(post.get("at", 0)) + n * float(post.get("every", 1)))
            author = str(post["author"]).replace("{n}", str(n + 1))
            text = str(post.get("text", "")).replace("{n}", str(n + 1))
            try:
                if "edit_of" in post:  # its author edits an earlier post: a new version, a new id
                    edited = emulator.world.posts[str(resolve(post["edit_of"], where))]
                    if edited.author_id != emulator.world.require_user(author).id:
                        raise ScenarioError(f"{where}: only its author edits a post")
                    created = emulator.edit_post(edited.id, text, at=at)
                else:
                    created = emulator.add_post(
                        author,
                        text,
                        at=at,
                        reply_to=resolve(post.get("reply_to"), where),
                        quote_of=resolve(post.get("quote_of"), where),
                        retweet_of=resolve(post.get("retweet_of"), where),
                        lang=str(post.get("lang", "en")),
                    )
            except ScenarioError:
                raise
            except ValueError as exc:  # X's edit rules
                raise ScenarioError(f"{where}: {exc}") from exc
            except KeyError as exc:
                raise ScenarioError(f"{where}: {exc.args[0]}") from exc
            if "deleted_at" in post:  # its author deletes it then (seconds after start)
                emulator.delete_post(created.id, at=origin + timedelta(seconds=float(post["deleted_at"])))
            if "key" in post and n == 0:
                keys[str(post["key"])] = created.id
    for i, dm in enumerate(spec.get("dms") or []):
        _check_keys(dm, {"sender", "recipient", "text", "at"}, f"dms[{i}]")
        emulator.add_dm(
            dm["sender"], dm["recipient"], dm["text"], at=origin + timedelta(seconds=float(dm.get("at", 0)))
        )
    for fault in spec.get("faults") or []:
        emulator.inject_fault(**fault)
    return emulator, keys
