"""Typed calls to the X API v2 for one handle. tweepy and requests, which do the HTTP, live in
``x_http`` and are imported on the first call to X: a function that never calls X never loads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from turnaround.adapters.secrets import XCredentials, credentials_from_secret
from turnaround.exceptions import MalformedXResponse, XApiError
from turnaround.models.x import DmEventsPage, MentionsPage, RateLimit, XUser
from turnaround.observability import logger

X_HOST = "https://api.twitter.com"
TWEET_FIELDS = (
    "author_id,conversation_id,created_at,lang,referenced_tweets,in_reply_to_user_id,entities,"
    "display_text_range"
)
USER_FIELDS = "public_metrics,verified,receives_your_dm,name,username"
EXPANSIONS = "author_id,referenced_tweets.id"

if TYPE_CHECKING:
    import requests
    import tweepy

ModelT = TypeVar("ModelT", bound=BaseModel)
__all__ = ["XApi", "XCredentials", "credentials_from_secret"]


def _reset_at(response: requests.Response | None) -> datetime | None:
    """When to call again: the 15-minute reset, or a 24-hour window's reset if that one is used up."""
    if response is None:
        return None
    headers = response.headers
    resets = [headers.get("x-rate-limit-reset")]
    for scope in ("user", "app"):
        if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
            resets.append(headers.get(f"x-{scope}-limit-24hour-reset"))
    seconds = [int(raw) for raw in resets if raw and raw.isdigit()]
    return datetime.fromtimestamp(max(seconds), UTC) if seconds else None


def _parse(response: requests.Response, model: type[ModelT]) -> ModelT:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("errors") and "data" not in body and "meta" not in body:
            # X answers a lookup of an unknown or suspended account with 200 and only `errors`.
            error = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
            raise XApiError(
                f"X: {error.get('detail') or error.get('title') or 'error'}",
                status=response.status_code,
                problem_type=str(error.get("type", "")),
            )
        return model.model_validate(body)
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedXResponse(
            f"unexpected {model.__name__} payload from X: {exc}", status=response.status_code
        ) from exc


def _rate_limit(response: requests.Response) -> RateLimit:
    def number(name: str) -> int | None:
        raw = response.headers.get(name)
        return int(raw) if raw and raw.isdigit() else None

    return RateLimit(
        limit=number("x-rate-limit-limit"),
        remaining=number("x-rate-limit-remaining"),
        reset_at=_reset_at(response),
    )


class _Response(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built when first read: a function pays for what it calls


class _Me(_Response):
    data: XUser


class _Created(_Response):
    id: str


class _CreatedPost(_Response):
    data: _Created


class _DmCreated(_Response):
    dm_event_id: str
    dm_conversation_id: str


class _DmCreatedResponse(_Response):
    data: _DmCreated


class XApi:
    """Typed calls to the X API for one authenticated handle."""

    def __init__(
        self,
        credentials: XCredentials | None = None,
        *,
        client: tweepy.Client | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        writes_enabled: bool = True,
    ):
        if client is None and credentials is None:
            raise ValueError("XApi needs credentials or a client")
        self._credentials, self._base_url, self._timeout = credentials, base_url, timeout
        self._client = client
        self.writes_enabled = writes_enabled

    @property
    def credentials(self) -> XCredentials | None:
        return self._credentials

    @property
    def client(self) -> tweepy.Client:
        if self._client is None:
            assert self._credentials is not None
            from turnaround.adapters.x_http import build_client

            self._client = build_client(self._credentials, base_url=self._base_url, timeout=self._timeout)
        return self._client

    def _call(self, operation: Callable[[], requests.Response]) -> requests.Response:
        from turnaround.adapters.x_http import ERRORS, translate  # tweepy: on the first call to X

        try:
            return operation()
        except ERRORS as exc:
            raise translate(exc) from exc

    def me(self) -> XUser:
        response = self._call(lambda: self.client.get_me(user_fields=USER_FIELDS.split(","), user_auth=True))
        return _parse(response, _Me).data

    def mentions_page(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        until_id: str | None = None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> tuple[MentionsPage, RateLimit]:
        params: dict[str, Any] = {
            "max_results": max_results,
            "tweet_fields": TWEET_FIELDS.split(","),
            "user_fields": USER_FIELDS.split(","),
            "expansions": EXPANSIONS.split(","),
            "user_auth": True,
        }
        params.update(
            {
                k: v
                for k, v in {
                    "since_id": since_id,
                    "until_id": until_id,
                    "pagination_token": pagination_token,
                }.items()
                if v
            }
        )
        response = self._call(lambda: self.client.get_users_mentions(user_id, **params))
        return _parse(response, MentionsPage), _rate_limit(response)

    def _write_skipped(self, operation: str, **details: str | None) -> str:
        """Writes off (a non-prod stage): log what would have been sent and return a stable stand-in id,
        so the case records it and a retry finds the same one."""
        digest = hashlib.sha256(json.dumps([operation, details], sort_keys=True).encode()).hexdigest()
        stand_in = f"dryrun-{int(digest[:15], 16)}"
        logger.warning(
            "X write skipped: X_WRITES_ENABLED is off",
            extra={"operation": operation, "dry_run_id": stand_in, **details},
        )
        return stand_in

    def reply(self, in_reply_to_tweet_id: str, text: str, *, dm_deep_link_to: str | None = None) -> str:
        """Post a reply; with ``dm_deep_link_to`` it carries X's "Send a private message" button."""
        if not self.writes_enabled:
            return self._write_skipped(
                "reply", in_reply_to_tweet_id=in_reply_to_tweet_id, text=text, dm_deep_link_to=dm_deep_link_to
            )
        link = (
            f"https://twitter.com/messages/compose?recipient_id={dm_deep_link_to}"
            if dm_deep_link_to
            else None
        )
        response = self._call(
            lambda: self.client.create_tweet(
                text=text,
                in_reply_to_tweet_id=in_reply_to_tweet_id,
                direct_message_deep_link=link,
                user_auth=True,
            )
        )
        return _parse(response, _CreatedPost).data.id

    def send_dm(self, participant_id: str, text: str) -> str:
        if not self.writes_enabled:
            return self._write_skipped("send_dm", participant_id=participant_id, text=text)
        response = self._call(
            lambda: self.client.create_direct_message(
                participant_id=participant_id, text=text, user_auth=True
            )
        )
        return _parse(response, _DmCreatedResponse).data.dm_event_id

    def retweet(self, tweet_id: str) -> None:
        if not self.writes_enabled:
            self._write_skipped("retweet", tweet_id=tweet_id)
            return
        self._call(lambda: self.client.retweet(tweet_id, user_auth=True))

    def dm_events_page(
        self, *, max_results: int = 10, pagination_token: str | None = None
    ) -> tuple[DmEventsPage, RateLimit]:
        """One page, newest first. X has no since_id here and bills each event returned (once per UTC
        day), so callers read small pages and stop at the first event they already have."""
        response = self._call(
            lambda: self.client.get_direct_message_events(
                dm_event_fields=["id", "text", "sender_id", "created_at", "dm_conversation_id"],
                event_types="MessageCreate",
                max_results=max_results,
                pagination_token=pagination_token,
                user_auth=True,
            )
        )
        return _parse(response, DmEventsPage), _rate_limit(response)

    def own_posts_page(self, user_id: str, *, max_results: int = 20) -> tuple[MentionsPage, RateLimit]:
        """Our newest original posts (no replies or reposts) with their quote counts: Owned Reads."""
        response = self._call(
            lambda: self.client.get_users_tweets(
                user_id,
                max_results=max_results,
                exclude=["replies", "retweets"],
                tweet_fields=["author_id", "created_at", "public_metrics"],
                user_auth=True,
            )
        )
        return _parse(response, MentionsPage), _rate_limit(response)

    def own_replies_page(
        self, user_id: str, *, since_id: str, pagination_token: str | None = None
    ) -> tuple[MentionsPage, RateLimit]:
        """Our posts newer than ``since_id``, replies included (whoever posted them: the API or a
        person in X's app), newest first: Owned Reads, billed once a day per post."""
        response = self._call(
            lambda: self.client.get_users_tweets(
                user_id,
                since_id=since_id,
                max_results=100,
                exclude=["retweets"],
                tweet_fields=[
                    "author_id",
                    "conversation_id",
                    "created_at",
                    "referenced_tweets",
                    "in_reply_to_user_id",
                ],
                pagination_token=pagination_token,
                user_auth=True,
            )
        )
        return _parse(response, MentionsPage), _rate_limit(response)

    def quotes_page(self, tweet_id: str, *, max_results: int = 10) -> tuple[MentionsPage, RateLimit]:
        """The newest posts quoting one of ours (no since_id on X's side: callers stop at known ones)."""
        response = self._call(
            lambda: self.client.get_quote_tweets(
                tweet_id,
                max_results=max_results,
                tweet_fields=TWEET_FIELDS.split(","),
                user_fields=USER_FIELDS.split(","),
                expansions=EXPANSIONS.split(","),
                user_auth=True,
            )
        )
        return _parse(response, MentionsPage), _rate_limit(response)
