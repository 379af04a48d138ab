"""Every kind of emulator answer, success and error, validated against X's own models.

The client is `xdk` (X's official Python SDK, generated from X's OpenAPI spec; pinned in
requirements-dev.txt), signing OAuth 1.0a for its own host, https://api.x.com, rerouted to the
emulator. Each response body is validated with xdk's pydantic model for that operation; error bodies
with xdk's `Problem` union, or, for problem types the spec does not model (about:blank, usage-capped,
credits-depleted, client-forbidden), with the spec's base Problem (`type` and `title` required).

Where X's own sources disagree, the emulator follows the wire as documented and observed, and the
field is listed in KNOWN_DISAGREEMENTS with the reason; the test applies exactly that rewrite before
validating, and fails if an entry is no longer needed (so the list cannot rot).
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from pydantic import BaseModel, TypeAdapter, ValidationError
from requests_oauthlib import OAuth1 as RequestsOAuth1
from xdk import Client, schemas
from xdk.direct_messages import models as dm_models
from xdk.oauth1_auth import OAuth1
from xdk.posts import models as post_models
from xdk.users import models as user_models

from tests.conftest import BRAND_ID, Brand
from turnaround.adapters.x_http import RoutingTimeoutAdapter
from x_emulator import XApiEmulator
from x_emulator.routes import ROUTES

X_HOST = "https://api.x.com"

SUCCESS_MODELS: dict[str, type[BaseModel]] = {
    "me": user_models.GetMeResponse,
    "mentions": user_models.GetMentionsResponse,
    "user_posts": user_models.GetPostsResponse,
    "quote_posts": post_models.GetQuotedResponse,
    "create_tweet": post_models.CreateResponse,
    "create_dm": dm_models.CreateByParticipantIdResponse,
    "dm_events": dm_models.GetEventsResponse,
    "retweet": user_models.RepostPostResponse,
    "like": user_models.LikePostResponse,
}
PROBLEM = TypeAdapter(schemas.Problem)
MODELLED_PROBLEMS = {"invalid-request", "resource-not-found", "not-authorized-for-resource"}


def _user_objects(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    data = body.get("data")
    if isinstance(data, dict) and "username" in data:
        yield data
    yield from body.get("includes", {}).get("users", [])


def _post_count(route: str, body: dict[str, Any]) -> bool:
    changed = False
    for user in _user_objects(body):
        metrics = user.get("public_metrics")
        if metrics is not None and "post_count" not in metrics:
            metrics["post_count"] = metrics["tweet_count"]
            changed = True
    return changed


def _rest_id(route: str, body: dict[str, Any]) -> bool:
    if route == "retweet" and "rest_id" not in body.get("data", {}):
        body["data"]["rest_id"] = "0"
        return True
    return False


def _problem_host(route: str, body: dict[str, Any]) -> bool:
    changed = False
    for problem in [body, *body.get("errors", [])]:
        kind = problem.get("type")
        if isinstance(kind, str) and kind.startswith("https://api.twitter.com/2/problems/"):
            problem["type"] = kind.replace("https://api.twitter.com", "https://api.x.com", 1)
            changed = True
    return changed


# field → (why X's sources disagree, the rewrite applied before validating with xdk)
KNOWN_DISAGREEMENTS: dict[str, tuple[str, Callable[[str, dict[str, Any]], bool]]] = {
    "user.public_metrics.post_count": (
        "xdk 0.10.6 and spec 2.167 require `post_count`; the docs pages (163 uses of tweet_count, none "
        "of post_count), spec 2.166, the spec's own examples and the X Activity API payload samples of "
        "Jul-Aug 2026 send `tweet_count`. The emulator sends tweet_count.",
        _post_count,
    ),
    "repost.data.rest_id": (
        "xdk 0.10.6 and spec 2.167 require `data.rest_id`; spec 2.166 and the docs example answer "
        '{"data": {"retweeted": true}}, which the emulator sends.',
        _rest_id,
    ),
    "problem.type host": (
        "xdk's problem models pin types to https://api.x.com/2/problems/...; bodies observed live in "
        "2025-2026 (xdevplatform/xdk#25 usage-capped, plhery/node-twitter-api-v2#597 invalid-request) "
        "use https://api.twitter.com/2/problems/..., which the emulator sends.",
        _problem_host,
    ),
}


class Recorder:
    def __init__(self, emulator: XApiEmulator):
        self.emulator = emulator
        self.answers: list[tuple[str, int, dict[str, Any]]] = []

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        path = response.request.path_url.split("?")[0]
        route = self.emulator.route_name(str(response.request.method), path)
        assert route is not None, f"no route for {response.request.method} {path}"
        self.answers.append((route, response.status_code, response.json()))


@pytest.fixture
def recorder(emulator: XApiEmulator) -> Recorder:
    return Recorder(emulator)


@pytest.fixture
def xdk_client(emulator: XApiEmulator, brand: Brand, recorder: Recorder) -> Client:
    secrets = {k: v.get_secret_value() for k, v in brand.credentials}
    client = Client(
        auth=OAuth1(
            api_key=secrets["consumer_key"],
            api_secret=secrets["consumer_secret"],
            callback="oob",
            access_token=secrets["access_token"],
            access_token_secret=secrets["access_token_secret"],
        )
    )
    assert client.base_url == X_HOST  # signed for api.x.com: the emulator must accept both hosts
    client.session.mount(X_HOST + "/", RoutingTimeoutAdapter(timeout=2, base_url=emulator.base_url))
    client.session.hooks["response"].append(recorder)
    return client


@pytest.fixture
def raw(emulator: XApiEmulator, brand: Brand, recorder: Recorder) -> requests.Session:
    """Signed requests xdk would never send (unknown parameters), on the same host."""
    secrets = {k: v.get_secret_value() for k, v in brand.credentials}
    session = requests.Session()
    session.auth = RequestsOAuth1(
        secrets["consumer_key"],
        secrets["consumer_secret"],
        secrets["access_token"],
        secrets["access_token_secret"],
    )
    session.mount(X_HOST + "/", RoutingTimeoutAdapter(timeout=2, base_url=emulator.base_url))
    session.hooks["response"].append(recorder)
    return session


def _expect_http_error(call: Callable[[], Any]) -> None:
    with pytest.raises(requests.HTTPError):
        call()


def _first(pages: Iterator[Any]) -> Any:
    return next(iter(pages))  # xdk pages lazily: the first page is one request


def _recorded(call: Callable[[], Any]) -> None:
    """xdk validates as it parses; a known disagreement raises there. The recorded body is
    validated below, with exactly the allow-listed rewrites, so nothing else is let through."""
    with contextlib.suppress(ValidationError):
        call()


def _drive(emulator: XApiEmulator, client: Client, raw: requests.Session, clock: Any) -> None:
    """Every route's success, and every kind of error the emulator gives."""
    jane = emulator.add_user("jane", dms="closed", followers=10)
    ours = emulator.add_post("acmeair", "Winter timetable is live")
    complaint = emulator.add_post("jane", "@acmeair my bag is lost")
    emulator.add_post("jane", "still waiting", reply_to=ours.id)  # automatic @acmeair prefix
    emulator.add_post("jane", "cancelled again", quote_of=ours.id)
    emulator.add_dm("jane", "acmeair", "booking XK42P")
    clock.advance(1)
    fields = ["author_id", "conversation_id", "created_at", "display_text_range", "entities", "lang"]
    _recorded(lambda: client.users.get_me(user_fields=["public_metrics", "verified", "receives_your_dm"]))
    _recorded(
        lambda: _first(
            client.users.get_mentions(
                BRAND_ID,
                max_results=5,
                post_fields=[*fields, "referenced_tweets", "in_reply_to_user_id"],
                expansions=["author_id", "referenced_tweets.id"],
                user_fields=["public_metrics", "verified"],
            )
        )
    )
    _recorded(
        lambda: _first(client.users.get_posts(BRAND_ID, max_results=5, exclude=["replies", "retweets"]))
    )
    _recorded(
        lambda: _first(
            client.posts.get_quoted(
                ours.id, max_results=10, expansions=["author_id"], user_fields=["public_metrics"]
            )
        )
    )
    reply = post_models.CreateRequest.model_validate(
        {"text": "@jane so sorry, on it /AB", "reply": {"in_reply_to_tweet_id": complaint.id}}
    )
    _recorded(lambda: client.posts.create(reply))
    dm = dm_models.CreateByParticipantIdRequest.model_validate({"text": "Thanks Jane"})
    _recorded(lambda: client.direct_messages.create_by_participant_id(jane.id, dm))
    _recorded(
        lambda: _first(
            client.direct_messages.get_events(max_results=5, dm_event_fields=["sender_id", "created_at"])
        )
    )
    repost = user_models.RepostPostRequest.model_validate({"tweet_id": complaint.id})
    _recorded(lambda: client.users.repost_post(BRAND_ID, repost))
    # 200 with errors[]: an unknown user.
    _recorded(lambda: _first(client.users.get_mentions("999999", max_results=5)))
    # 400: an unknown query parameter, a bad value, a post too long.
    raw.get(f"{X_HOST}/2/dm_events", params={"since_id": "1"})
    raw.get(f"{X_HOST}/2/users/{BRAND_ID}/mentions", params={"max_results": "500"})
    raw.post(f"{X_HOST}/2/tweets", json={"text": "漢" * 141})
    # 401: no Authorization header; a forged signature.
    unsigned = requests.Session()
    unsigned.mount(X_HOST + "/", RoutingTimeoutAdapter(timeout=2, base_url=emulator.base_url))
    unsigned.hooks["response"] = raw.hooks["response"]
    unsigned.get(f"{X_HOST}/2/users/me")
    # 403: unsummoned reply, duplicate content, a like (client-forbidden), a refused DM.
    bystander = emulator.add_post("jane", "airlines, eh")
    raw.post(f"{X_HOST}/2/tweets", json={"text": "@jane hi", "reply": {"in_reply_to_tweet_id": bystander.id}})
    raw.post(f"{X_HOST}/2/tweets", json={"text": "@jane so sorry, on it /AB"})
    _expect_http_error(
        lambda: client.users.like_post(
            BRAND_ID, user_models.LikePostRequest.model_validate({"tweet_id": ours.id})
        )
    )
    stranger = emulator.add_user("stranger")
    raw.post(f"{X_HOST}/2/dm_conversations/with/{stranger.id}/messages", json={"text": "hi"})
    # 429 rate limit, 429 usage-capped, 402 credits, 503.
    emulator.inject_fault("mentions", "rate_limit")
    emulator.inject_fault("dm_events", "usage_capped")
    emulator.inject_fault("me", "payment_required")
    emulator.inject_fault("user_posts", "server_error")
    raw.get(f"{X_HOST}/2/users/{BRAND_ID}/mentions")
    raw.get(f"{X_HOST}/2/dm_events")
    raw.get(f"{X_HOST}/2/users/me")
    raw.get(f"{X_HOST}/2/users/{BRAND_ID}/tweets")


def _validate(route: str, status: int, body: dict[str, Any], used: set[str]) -> None:
    fixed = copy.deepcopy(body)
    for name, (_, rewrite) in KNOWN_DISAGREEMENTS.items():
        if rewrite(route, fixed):
            used.add(name)
    if status < 400:
        SUCCESS_MODELS[route].model_validate(fixed)
        return
    kind = str(fixed.get("type", ""))
    if kind.rsplit("/", 1)[-1] in MODELLED_PROBLEMS:
        PROBLEM.validate_python(fixed)
        return
    # The spec's base Problem: type and title are required, detail and status optional.
    assert isinstance(fixed.get("type"), str) and isinstance(fixed.get("title"), str), body
    assert isinstance(fixed.get("detail", ""), str) and isinstance(fixed.get("status", status), int)


def test_every_emulator_answer_validates_against_xdk(emulator, xdk_client, raw, recorder, clock):
    _drive(emulator, xdk_client, raw, clock)
    used: set[str] = set()
    failures = []
    for route, status, body in recorder.answers:
        try:
            _validate(route, status, body, used)
        except (ValidationError, AssertionError) as exc:
            failures.append(f"{route} {status} {json.dumps(body)[:300]}\n{exc}")
    assert not failures, "\n\n".join(failures)

    seen = {(route, status) for route, status, _ in recorder.answers}
    succeeded = {route for route, status in seen if status < 400}
    assert succeeded == {r.name for r in ROUTES} - {"like"}  # every route answered at least once
    assert {status for _, status in seen} >= {200, 201, 400, 401, 402, 403, 429, 503}
    assert any(
        "errors" in body and "data" not in body for _, status, body in recorder.answers if status == 200
    )
    assert used == set(KNOWN_DISAGREEMENTS), (
        f"allow-list entries no longer needed: {set(KNOWN_DISAGREEMENTS) - used}"
    )


def test_without_the_allow_list_xdk_refuses_exactly_those_fields(emulator, xdk_client):
    """The disagreements are real: xdk's own client raises on the emulator's documented bodies."""
    with pytest.raises(ValidationError, match="post_count"):
        xdk_client.users.get_me(user_fields=["public_metrics"])
    post = emulator.add_post("acmeair", "hello")
    with pytest.raises(ValidationError, match="rest_id"):
        xdk_client.users.repost_post(
            BRAND_ID, user_models.RepostPostRequest.model_validate({"tweet_id": post.id})
        )
