"""HTTP layer of the emulator: routing, OAuth 1.0a, rate limits, billing, rules and faults."""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from oauthlib.oauth1 import Client as OAuthClient
from oauthlib.oauth1.rfc5849 import signature, utils
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from x_emulator.clock import SimulatedClock
from x_emulator.world import Post, User, World

PRICE_LIST = Path(__file__).resolve().parent.parent / "x_price_list.yaml"
SIGNED_HOST = "https://api.twitter.com"  # tweepy signs for this host; we verify against it
WINDOW_SECONDS = 15 * 60
MAX_TEXT = 280
PROBLEMS = "https://api.twitter.com/2/problems/"

# Requests per 15-minute window per user token (x-api/fundamentals/rate-limits).
DEFAULT_RATE_LIMITS = {
    "mentions": 300,
    "me": 75,
    "create_tweet": 100,
    "create_dm": 15,
    "dm_events": 15,
    "retweet": 50,
    "like": 50,
}
FAULT_KINDS = {
    "server_error",
    "timeout",
    "rate_limit",
    "payment_required",
    "usage_capped",
    "malformed",
    "truncated",
}


class _QuietHandler(WSGIRequestHandler):
    """No access log: the emulator records calls itself, and tests read those."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ProblemError(Exception):
    """An X-style problem+json answer."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        problem: str = "about:blank",
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status, self.title, self.detail, self.problem = status, title, detail, problem
        self.extra, self.headers = extra or {}, headers or {}

    def response(self) -> Response:
        body = {"title": self.title, "detail": self.detail, "type": self.problem, "status": self.status}
        body.update(self.extra)
        return Response(
            json.dumps(body),
            status=self.status,
            headers=self.headers,
            content_type="application/problem+json",
        )


def invalid(parameter: str, value: Any, message: str) -> ProblemError:
    return ProblemError(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        PROBLEMS + "invalid-request",
        {"errors": [{"parameters": {parameter: [str(value)]}, "message": message}]},
    )


@dataclass
class Fault:
    route: str  # endpoint name, e.g. "mentions", or "*"
    kind: str
    times: int = 1
    skip: int = 0
    delay_seconds: float = 2.0


@dataclass
class Violation:
    rule: str
    detail: str
    user: str
    at: datetime


@dataclass
class Ledger:
    """What X would bill, by operation and by the user each charge concerns (the customer replied
    to, DMed, read or retweeted), so a run can be priced per complaint from what was billed."""

    prices: dict[str, Any]
    spend_usd: float = 0.0
    by_operation: Counter[str] = field(default_factory=Counter)
    by_user: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    billed_reads: set[tuple[str, str]] = field(default_factory=set)
    post_reads_this_month: int = 0

    def charge(self, operation: str, units: int = 1, *, concerning: str | None = None) -> None:
        cost = float(self.prices[operation]) * units
        self.spend_usd += cost
        self.by_operation[operation] += cost  # type: ignore[assignment]
        self.units[operation] += units
        if concerning is not None:
            self.by_user[concerning] += cost  # type: ignore[assignment]

    def charge_reads(self, operation: str, reads: list[tuple[str, str]], day: str) -> None:
        """`reads` is (resource id, the user it concerns) for each resource returned."""
        if self.prices.get("dedupe_reads_per_utc_day"):
            fresh = [(i, u) for i, u in reads if (day, i) not in self.billed_reads]
            self.billed_reads.update((day, i) for i, _ in fresh)
        else:
            fresh = reads
        if operation in ("owned_read", "post_read"):
            self.post_reads_this_month += len(reads)
        for user in dict.fromkeys(u for _, u in fresh):
            self.charge(operation, sum(1 for _, u in fresh if u == user), concerning=user)


class XApiEmulator:
    """Serve the world over HTTP on loopback. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        world: World | None = None,
        *,
        clock: SimulatedClock | None = None,
        consumer_key: str = "emulator-consumer-key",
        consumer_secret: str = "emulator-consumer-secret",
        credits_usd: float | None = None,
        rate_limits: dict[str, int] | None = None,
        verify_signatures: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.clock = clock or SimulatedClock()
        self.world = world or World(self.clock)
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.credits_usd = credits_usd
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self.verify_signatures = verify_signatures
        self.ledger = Ledger(prices=yaml.safe_load(PRICE_LIST.read_text()))
        self.violations: list[Violation] = []
        self.refusals: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.faults_fired: Counter[str] = Counter()  # "route kind" -> how many requests it answered
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._url_map = Map(
            [
                Rule("/2/users/me", endpoint="me", methods=["GET"]),
                Rule("/2/users/<user_id>/mentions", endpoint="mentions", methods=["GET"]),
                Rule("/2/tweets", endpoint="create_tweet", methods=["POST"]),
                Rule(
                    "/2/dm_conversations/with/<participant_id>/messages",
                    endpoint="create_dm",
                    methods=["POST"],
                ),
                Rule("/2/dm_events", endpoint="dm_events", methods=["GET"]),
                Rule("/2/users/<user_id>/retweets", endpoint="retweet", methods=["POST"]),
                Rule("/2/users/<user_id>/likes", endpoint="like", methods=["POST"]),
                Rule("/_emulator/state", endpoint="control_state", methods=["GET"]),
                Rule("/_emulator/posts", endpoint="control_post", methods=["POST"]),
                Rule("/_emulator/dms", endpoint="control_dm", methods=["POST"]),
                Rule("/_emulator/clock", endpoint="control_clock", methods=["POST"]),
                Rule("/_emulator/faults", endpoint="control_fault", methods=["POST"]),
            ]
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> XApiEmulator:
        self._server = make_server(
            self._host, self._port, self.wsgi_app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="x-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> XApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self._host}:{self._server.server_port}"

    # --- scripting and assertions ------------------------------------------------------------

    def add_user(self, username: str, **attributes: Any) -> User:
        return self.world.add_user(username, **attributes)

    def add_post(self, author: str, text: str = "", **kwargs: Any) -> Post:
        return self.world.add_post(author, text, **kwargs)

    def add_dm(self, sender: str, recipient: str, text: str, **kwargs: Any) -> Any:
        return self.world.add_dm(sender, recipient, text, **kwargs)

    def inject_fault(
        self, route: str, kind: str, *, times: int = 1, skip: int = 0, delay_seconds: float = 2.0
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if route != "*" and route not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"unknown route {route!r}; one of {sorted(DEFAULT_RATE_LIMITS)} or '*'")
        with self.world.lock:
            self.faults.append(Fault(route, kind, times, skip, delay_seconds))

    def posts_created(self, by: str | None = None) -> list[Post]:
        author = self.world.require_user(by).id if by else None
        return [
            p for p in self.world.posts.values() if p.via_api and (author is None or p.author_id == author)
        ]

    def dms_sent(self, by: str | None = None) -> list[Any]:
        author = self.world.require_user(by).id if by else None
        return [d for d in self.world.dms if d.via_api and (author is None or d.sender_id == author)]

    @property
    def retweets(self) -> list[tuple[str, str]]:
        return list(self.world.retweets)

    def state(self) -> dict[str, Any]:
        with self.world.lock:
            return {
                "now": self.clock.now().isoformat(),
                "posts_created": [
                    {
                        "id": p.id,
                        "author_id": p.author_id,
                        "text": p.text,
                        "in_reply_to_tweet_id": p.in_reply_to_tweet_id,
                        "direct_message_deep_link": p.direct_message_deep_link,
                    }
                    for p in self.posts_created()
                ],
                "dms_sent": [
                    {"id": d.id, "sender_id": d.sender_id, "recipient_id": d.recipient_id, "text": d.text}
                    for d in self.dms_sent()
                ],
                "retweets": [{"user_id": u, "tweet_id": t} for u, t in self.world.retweets],
                "violations": [{"rule": v.rule, "detail": v.detail, "user": v.user} for v in self.violations],
                "refusals": list(self.refusals),
                "faults_fired": dict(self.faults_fired),
                "faults_pending": sum(max(0, f.times) for f in self.faults),
                "calls": dict(self.calls),
                "spend_usd": round(self.ledger.spend_usd, 6),
                "spend_by_operation": {k: round(v, 6) for k, v in self.ledger.by_operation.items()},
                "spend_by_user": {k: round(v, 6) for k, v in self.ledger.by_user.items()},
            }

    # --- WSGI ----------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self._url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return ProblemError(
                404, "Not Found Error", f"no route {request.path}", PROBLEMS + "resource-not-found"
            ).response()
        except HTTPException as exc:
            return ProblemError(exc.code or 400, "Invalid Request", str(exc)).response()
        if str(endpoint).startswith("control_"):
            return self._json(getattr(self, f"_{endpoint}")(request))
        self.calls[str(endpoint)] += 1
        delay = 0.0
        try:
            user = self._authenticate(request)
            fault = self._take_fault(str(endpoint))
            if fault and fault.kind == "timeout":
                delay = fault.delay_seconds
                raise ProblemError(503, "Service Unavailable", "Upstream timeout")
            headers = self._rate_limit(str(endpoint), user)
            if fault:
                return self._fault_response(fault, headers)
            self._check_credits()
            with self.world.lock:
                payload, status = getattr(self, f"_{endpoint}")(request, user, **args)
            return self._json(payload, status, headers)
        except ProblemError as problem:
            self.refusals.append({"route": str(endpoint), "status": problem.status, "detail": problem.detail})
            return problem.response()
        finally:
            if delay:
                time.sleep(delay)

    @staticmethod
    def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")

    # --- cross-cutting rules -------------------------------------------------------------------

    def _authenticate(self, request: Request) -> User:
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            raise ProblemError(
                401,
                "Unauthorized",
                "OAuth 1.0a user context is required for this endpoint.",
                PROBLEMS + "not-authorized-for-resource",
            )
        params = {key: utils.unescape(value) for key, value in utils.parse_authorization_header(header)}
        missing = {
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature",
            "oauth_nonce",
            "oauth_timestamp",
            "oauth_signature_method",
        } - params.keys()
        if missing:
            raise ProblemError(401, "Unauthorized", f"OAuth header lacks {sorted(missing)}")
        user = self.world.user_by_token(params["oauth_token"])
        if params["oauth_consumer_key"] != self.consumer_key or user is None:
            raise ProblemError(401, "Unauthorized", "Unknown consumer key or access token.")
        if self.verify_signatures and not self._signature_valid(request, params, user):
            raise ProblemError(401, "Unauthorized", "Invalid OAuth signature.")
        return user

    def _signature_valid(self, request: Request, params: dict[str, str], user: User) -> bool:
        query = request.query_string.decode()
        uri = SIGNED_HOST + request.path + (f"?{query}" if query else "")
        collected = signature.collect_parameters(
            uri_query=query,
            headers={"Authorization": request.headers["Authorization"]},
            exclude_oauth_signature=True,
        )
        base = signature.signature_base_string(
            request.method, signature.base_string_uri(uri), signature.normalize_parameters(collected)
        )
        signer = OAuthClient(
            self.consumer_key,
            client_secret=self.consumer_secret,
            resource_owner_secret=user.access_token_secret or "",
        )
        expected = signature.sign_hmac_sha1_with_client(base, signer)
        return hmac.compare_digest(expected, params["oauth_signature"])

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self.world.lock:
            for fault in self.faults:
                if fault.route not in (endpoint, "*") or fault.times <= 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                self.faults_fired[f"{endpoint} {fault.kind}"] += 1
                return fault
        return None

    def _rate_limit(self, endpoint: str, user: User) -> dict[str, str]:
        limit = self.rate_limits[endpoint]
        now = self.clock.now().timestamp()
        with self.world.lock:
            start, used = self._windows.get((endpoint, user.id), (now, 0))
            if now >= start + WINDOW_SECONDS:
                start, used = now, 0
            reset = int(start + WINDOW_SECONDS)
            if used >= limit:
                raise ProblemError(
                    429,
                    "Too Many Requests",
                    "Too Many Requests",
                    headers=self._limit_headers(limit, 0, reset),
                )
            self._windows[(endpoint, user.id)] = (start, used + 1)
            return self._limit_headers(limit, limit - used - 1, reset)

    @staticmethod
    def _limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }

    def _check_credits(self) -> None:
        if self.credits_usd is not None and self.ledger.spend_usd >= self.credits_usd:
            raise self._credits_depleted()

    @staticmethod
    def _credits_depleted() -> ProblemError:
        return ProblemError(
            402,
            "Payment Required",
            "Your account does not have enough credits to fulfil this request.",
            PROBLEMS + "credits-depleted",
        )

    @staticmethod
    def _usage_capped() -> ProblemError:
        return ProblemError(
            429,
            "UsageCapExceeded",
            "Usage cap exceeded: Monthly product cap",
            PROBLEMS + "usage-capped",
            {"period": "Monthly", "scope": "Product"},
        )

    def _fault_response(self, fault: Fault, headers: dict[str, str]) -> Response:
        if fault.kind == "server_error":
            return ProblemError(503, "Service Unavailable", "Service Unavailable").response()
        if fault.kind == "rate_limit":
            reset = int(self.clock.now().timestamp()) + WINDOW_SECONDS
            return ProblemError(
                429,
                "Too Many Requests",
                "Too Many Requests",
                headers=self._limit_headers(int(headers["x-rate-limit-limit"]), 0, reset),
            ).response()
        if fault.kind == "payment_required":
            return self._credits_depleted().response()
        if fault.kind == "usage_capped":
            return self._usage_capped().response()
        if fault.kind == "malformed":
            return self._json(
                {"data": [{"id": "not-a-number", "text": None}], "meta": {"result_count": "x"}}, 200, headers
            )
        return Response(
            '{"data": [{"id": "1", "te', status=200, headers=headers, content_type="application/json"
        )

    def _violation(
        self, rule: str, detail: str, user: User, status: int = 403, problem: str = "about:blank"
    ) -> ProblemError:
        """Record that the client broke one of X's rules, and refuse the request the way X does."""
        self.violations.append(Violation(rule, detail, user.username, self.clock.now()))
        return ProblemError(status, "Forbidden", detail, problem)

    # --- parameters ----------------------------------------------------------------------------

    @staticmethod
    def _fields(request: Request, name: str) -> set[str]:
        return {f for f in request.args.get(name, "").split(",") if f}

    @staticmethod
    def _int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise invalid(
                name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
            )
        return int(raw)

    @staticmethod
    def _id_arg(request: Request, name: str) -> int | None:
        raw = request.args.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise invalid(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
        return int(raw)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise invalid("body", "", "Request body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise invalid("body", "", "Request body must be a JSON object")
        return body

    @staticmethod
    def _token(after_id: str) -> str:
        return base64.urlsafe_b64encode(after_id.encode()).decode().rstrip("=")

    @staticmethod
    def _untoken(token: str) -> int:
        try:
            return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        except ValueError as exc:
            raise invalid(
                "pagination_token", token, "The `pagination_token` query parameter is invalid"
            ) from exc

    def _today(self) -> str:
        return self.clock.now().astimezone(UTC).strftime("%Y-%m-%d")

    # --- endpoints -----------------------------------------------------------------------------

    def _me(self, request: Request, user: User) -> tuple[dict[str, Any], int]:
        self.ledger.charge("user_read")
        return {"data": user.public(self._fields(request, "user.fields"), None, self.world)}, 200

    def _mentions(self, request: Request, user: User, user_id: str) -> tuple[dict[str, Any], int]:
        target = self.world.users.get(user_id)
        if target is None:
            raise ProblemError(
                404,
                "Not Found Error",
                f"Could not find user with id: [{user_id}].",
                PROBLEMS + "resource-not-found",
            )
        max_results = self._int_arg(request, "max_results", 10, 5, 100)
        since_id, until_id = self._id_arg(request, "since_id"), self._id_arg(request, "until_id")
        token = request.args.get("pagination_token")
        before = self._untoken(token) if token else None
        owned = target.id == user.id
        if self.ledger.post_reads_this_month >= int(self.ledger.prices["post_read_monthly_cap"]):
            raise self._usage_capped()
        # The timeline keeps only the newest 800 mentions; older ones are simply not there.
        reachable = self.world.mentions_of(target)[:800]
        selected = [
            p
            for p in reachable
            if (since_id is None or int(p.id) > since_id)
            and (until_id is None or int(p.id) < until_id)
            and (before is None or int(p.id) < before)
        ]
        page, rest = selected[:max_results], selected[max_results:]
        tweet_fields, user_fields = (
            self._fields(request, "tweet.fields"),
            self._fields(request, "user.fields"),
        )
        expansions = self._fields(request, "expansions")
        if "entities.mentions.username" in expansions:
            tweet_fields |= {"entities"}
        if "author_id" in expansions:
            tweet_fields |= {"author_id"}
        payload: dict[str, Any] = {}
        if page:
            payload["data"] = [p.public(tweet_fields, self.world) for p in page]
            includes: dict[str, list[dict[str, Any]]] = {}
            user_ids: dict[str, None] = {}
            if "author_id" in expansions:
                user_ids.update((p.author_id, None) for p in page)
            if "in_reply_to_user_id" in expansions:
                user_ids.update((p.in_reply_to_user_id, None) for p in page if p.in_reply_to_user_id)
            if user_ids:
                includes["users"] = [
                    self.world.users[i].public(user_fields, user, self.world) for i in user_ids
                ]
            if "referenced_tweets.id" in expansions:
                referenced = {r["id"] for p in page for r in p.references()}
                includes["tweets"] = [
                    self.world.posts[i].public(tweet_fields, self.world)
                    for i in sorted(referenced)
                    if i in self.world.posts
                ]
            if includes:
                payload["includes"] = includes
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
        if rest:
            meta["next_token"] = self._token(page[-1].id)
        payload["meta"] = meta
        self.ledger.charge_reads(
            "owned_read" if owned else "post_read", [(p.id, p.author_id) for p in page], self._today()
        )
        return payload, 200

    def _create_tweet(self, request: Request, user: User) -> tuple[dict[str, Any], int]:
        body = self._body(request)
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
            raise self._violation(
                "quote_post",
                "Quote-posts via the API are not available on self-serve tiers.",
                user,
                problem=PROBLEMS + "client-forbidden",
            )
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        target = None
        if reply_to is not None:
            target = self.world.posts.get(str(reply_to))
            if target is None:
                raise invalid("reply.in_reply_to_tweet_id", reply_to, "Post to reply to does not exist.")
            if not self.world.summoned(user, target):
                raise self._violation(
                    "unsummoned_reply",
                    "You can only reply to or quote posts where you are mentioned or are the author.",
                    user,
                )
            if target.author_id != user.id and any(
                p.author_id == user.id and p.in_reply_to_tweet_id == target.id and p.via_api
                for p in self.world.posts.values()
            ):
                raise self._violation(
                    "second_reply_to_interaction", "At most one automated reply per interaction.", user
                )
        normalized = " ".join(text.split())
        if any(
            p.author_id == user.id and " ".join(p.text.split()) == normalized
            for p in self.world.posts.values()
        ):
            raise self._violation(
                "duplicate_content", "You are not allowed to create a Tweet with duplicate content.", user
            )
        post = self.world.add_post(
            user.id,
            text,
            reply_to=target.id if target else None,
            via_api=True,
            direct_message_deep_link=deep_link,
        )
        concerning = target.author_id if target is not None else None
        if "http://" in text or "https://" in text:
            self.ledger.charge("post_with_url", concerning=concerning)
        elif target is not None and target.author_id != user.id:
            self.ledger.charge("summoned_reply", concerning=concerning)
        else:
            self.ledger.charge("post_create", concerning=concerning)
        return {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}}, 201

    def _create_dm(self, request: Request, user: User, participant_id: str) -> tuple[dict[str, Any], int]:
        body = self._body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise invalid("text", text, "text is required")
        if len(text) > 10_000:
            raise invalid("text", len(text), "DM text is longer than 10000 characters.")
        recipient = self.world.users.get(participant_id)
        if recipient is None or recipient.id == user.id:
            raise invalid("participant_id", participant_id, "participant_id is not a valid recipient")
        if not self.world.has_messaged(recipient, user):
            raise self._violation(
                "unsolicited_dm",
                "Automated DMs are only allowed after the user has messaged you first.",
                user,
            )
        if recipient.dm_refuse:
            raise ProblemError(403, "Forbidden", "You cannot send messages to this user.")
        event = self.world.add_dm(user.id, recipient.id, text, via_api=True)
        self.ledger.charge("dm_create", concerning=recipient.id)
        return {"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}}, 201

    def _dm_events(self, request: Request, user: User) -> tuple[dict[str, Any], int]:
        max_results = self._int_arg(request, "max_results", 100, 1, 100)
        token = request.args.get("pagination_token")
        before = self._untoken(token) if token else None
        events = [e for e in self.world.dm_events_for(user) if before is None or int(e.id) < before]
        page, rest = events[:max_results], events[max_results:]
        fields = self._fields(request, "dm_event.fields")
        expand_senders = "sender_id" in self._fields(request, "expansions")
        if expand_senders:
            fields |= {"sender_id"}
        payload: dict[str, Any] = {}
        if page:
            payload["data"] = [e.public(fields) for e in page]
            if expand_senders:
                senders = dict.fromkeys(e.sender_id for e in page)
                payload["includes"] = {
                    "users": [
                        self.world.users[i].public(self._fields(request, "user.fields"), user, self.world)
                        for i in senders
                    ]
                }
        meta: dict[str, Any] = {"result_count": len(page)}
        if rest:
            meta["next_token"] = self._token(page[-1].id)
        payload["meta"] = meta
        self.ledger.charge_reads(
            "dm_event_read",
            [(e.id, e.recipient_id if e.sender_id == user.id else e.sender_id) for e in page],
            self._today(),
        )
        return payload, 200

    def _retweet(self, request: Request, user: User, user_id: str) -> tuple[dict[str, Any], int]:
        if user_id != user.id:
            raise ProblemError(
                403, "Forbidden", "You are not permitted to retweet on behalf of another user."
            )
        tweet_id = str(self._body(request).get("tweet_id", ""))
        if tweet_id not in self.world.posts:
            raise invalid("tweet_id", tweet_id, "Post to retweet does not exist.")
        if (user.id, tweet_id) in self.world.retweets:
            self._violation("duplicate_retweet", "Post already retweeted by this user.", user)
            return {"data": {"retweeted": True}}, 200
        self.world.retweets.append((user.id, tweet_id))
        self.world.add_post(user.id, retweet_of=tweet_id, via_api=True)
        self.ledger.charge("retweet", concerning=self.world.posts[tweet_id].author_id)
        return {"data": {"retweeted": True}}, 200

    def _like(self, request: Request, user: User, user_id: str) -> tuple[dict[str, Any], int]:
        raise self._violation(
            "like",
            "Likes via the API are not available on self-serve tiers.",
            user,
            problem=PROBLEMS + "client-forbidden",
        )

    # --- control API (loopback, unauthenticated: for make run and tests) -----------------------

    def _control_state(self, request: Request) -> dict[str, Any]:
        return self.state()

    def _control_post(self, request: Request) -> dict[str, Any]:
        body = self._body(request)
        post = self.world.add_post(
            body["author"],
            body.get("text", ""),
            reply_to=body.get("reply_to"),
            quote_of=body.get("quote_of"),
            retweet_of=body.get("retweet_of"),
        )
        return {"id": post.id}

    def _control_dm(self, request: Request) -> dict[str, Any]:
        body = self._body(request)
        event = self.world.add_dm(body["sender"], body["recipient"], body["text"])
        return {"id": event.id}

    def _control_clock(self, request: Request) -> dict[str, Any]:
        return {"now": self.clock.advance(float(self._body(request).get("advance_seconds", 0))).isoformat()}

    def _control_fault(self, request: Request) -> dict[str, Any]:
        body = self._body(request)
        self.inject_fault(
            body["route"], body["kind"], times=int(body.get("times", 1)), skip=int(body.get("skip", 0))
        )
        return {"faults": len(self.faults)}


def deep_link_for(user_id: str) -> str:
    return f"https://twitter.com/messages/compose?{urlencode({'recipient_id': user_id})}"
