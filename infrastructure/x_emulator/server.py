"""The emulator's HTTP server: lifecycle, dispatch through the route table, state and control routes.

A request to an X route goes: route table → OAuth 1.0a (auth) → injected fault (faults) → rate-limit
window (limits) → credits (billing) → the route's handler (routes), which applies X's rules (rules)
and bills what it returns (billing).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from x_emulator import billing
from x_emulator.auth import Authenticator
from x_emulator.billing import Ledger
from x_emulator.clock import SimulatedClock
from x_emulator.faults import Fault, FaultPlan, fault_response
from x_emulator.limits import RateLimiter
from x_emulator.problems import PROBLEMS, ProblemError
from x_emulator.routes import ROUTES, Route, body_of
from x_emulator.rules import Rules, Violation
from x_emulator.world import Post, User, World


class _QuietHandler(WSGIRequestHandler):
    """No access log: the emulator records calls itself, and tests read those."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


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
        daily_limits: dict[str, int] | None = None,
        app_owner: str | None = None,
        verify_signatures: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.clock = clock or SimulatedClock()
        self.world = world or World(self.clock)
        self.auth = Authenticator(consumer_key, consumer_secret, verify_signatures=verify_signatures)
        self.credits_usd = credits_usd
        self.limiter = RateLimiter(rate_limits, self.world.lock, daily_limits)
        # The username (or id) of the account that owns the developer app: only its reads of its own
        # timelines are Owned Reads ($0.001); every other handle's mention reads cost $0.005.
        self.app_owner = app_owner
        self.ledger = Ledger(prices=billing.load_prices())
        self.rules = Rules(self.world)
        self.fault_plan = FaultPlan(self.world.lock, {route.name for route in ROUTES})
        self.refusals: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self._routes = {route.name: route for route in ROUTES}
        self._control: dict[str, Callable[[Request], dict[str, Any]]] = {
            "state": lambda request: self.state(),
            "posts": self._control_post,
            "dms": self._control_dm,
            "clock": self._control_clock,
            "faults": self._control_fault,
        }
        self._url_map = Map(
            [Rule(route.path, endpoint=route.name, methods=[route.method]) for route in ROUTES]
            + [
                Rule(
                    f"/_emulator/{name}",
                    endpoint=f"control:{name}",
                    methods=["GET" if name == "state" else "POST"],
                )
                for name in self._control
            ]
        )
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- what tests and the runner read ------------------------------------------------------

    def is_app_owner(self, user: User) -> bool:
        owner = (self.app_owner or "").lower().lstrip("@")
        return owner in (user.id, user.username.lower())

    @property
    def consumer_key(self) -> str:
        return self.auth.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self.auth.consumer_secret

    @property
    def rate_limits(self) -> dict[str, int]:
        return self.limiter.limits

    @property
    def violations(self) -> list[Violation]:
        return self.rules.violations

    @property
    def faults(self) -> list[Fault]:
        return self.fault_plan.faults

    @property
    def faults_fired(self) -> Counter[str]:
        return self.fault_plan.fired

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

    def delete_post(self, post_id: str, **kwargs: Any) -> Post:
        return self.world.delete_post(post_id, **kwargs)

    def edit_post(self, post_id: str, text: str, **kwargs: Any) -> Post:
        return self.world.edit_post(post_id, text, **kwargs)

    def block(self, blocker: str, blocked: str, **kwargs: Any) -> None:
        self.world.block(blocker, blocked, **kwargs)

    def add_dm(self, sender: str, recipient: str, text: str, **kwargs: Any) -> Any:
        return self.world.add_dm(sender, recipient, text, **kwargs)

    def inject_fault(
        self, route: str, kind: str, *, times: int = 1, skip: int = 0, delay_seconds: float = 2.0
    ) -> None:
        self.fault_plan.inject(route, kind, times=times, skip=skip, delay_seconds=delay_seconds)

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
                    {
                        "id": d.id,
                        "sender_id": d.sender_id,
                        "recipient_id": d.recipient_id,
                        "text": d.text,
                        "created_at": d.created_at.isoformat(),
                    }
                    for d in self.dms_sent()
                ],
                "retweets": [{"user_id": u, "tweet_id": t} for u, t in self.world.retweets],
                "violations": [{"rule": v.rule, "detail": v.detail, "user": v.user} for v in self.violations],
                "refusals": list(self.refusals),
                "faults_fired": dict(self.faults_fired),
                "faults_pending": self.fault_plan.pending,
                "calls": dict(self.calls),
                "spend_usd": round(self.ledger.spend_usd, 6),
                "spend_by_operation": {k: round(v, 6) for k, v in self.ledger.by_operation.items()},
                "spend_by_user": {k: round(v, 6) for k, v in self.ledger.by_user.items()},
                "spend_by_user_operation": {
                    f"{user} {operation}": round(v, 6)
                    for (user, operation), v in self.ledger.by_user_operation.items()
                },
            }

    def route_name(self, method: str, path: str) -> str | None:
        """Which route of the table answers ``method path`` (None: a control route or no route)."""
        try:
            endpoint, _ = self._url_map.bind("localhost").match(path, method=method)
        except HTTPException:
            return None
        return None if str(endpoint).startswith("control:") else str(endpoint)

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
        name = str(endpoint)
        if name.startswith("control:"):
            return self._json(self._control[name.removeprefix("control:")](request))
        return self._serve(self._routes[name], request, args)

    def _serve(self, route: Route, request: Request, args: Mapping[str, Any]) -> Response:
        self.calls[route.name] += 1
        delay = 0.0
        headers: dict[str, str] = {}  # an authenticated answer carries its rate-limit headers, refusals too
        try:
            user = self.auth.authenticate(request, self.world)
            fault = self.fault_plan.take(route.name)
            if fault and fault.kind == "timeout":
                delay = fault.delay_seconds
                raise ProblemError(503, "Service Unavailable", "Upstream timeout")
            if fault and fault.kind == "lost_response":
                delay, fault = fault.delay_seconds, None  # served as usual, answered too late
            now = self.clock.now().timestamp()
            headers = self.limiter.take(route.name, user.id, now)
            headers |= self.limiter.take_daily(route.name, user.id, now)
            if fault:
                return fault_response(fault, headers, now)
            route.check_query(request)
            self._check_credits()
            with self.world.lock:
                payload, status = route.handler(self, request, user, **args)
            return self._json(payload, status, headers)
        except ProblemError as problem:
            self.refusals.append({"route": route.name, "status": problem.status, "detail": problem.detail})
            return problem.response(headers)
        finally:
            if delay:
                time.sleep(delay)

    @staticmethod
    def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")

    def _check_credits(self) -> None:
        if self.credits_usd is not None and self.ledger.spend_usd >= self.credits_usd:
            raise billing.credits_depleted()

    # --- control API (loopback, unauthenticated: for make run and tests) -----------------------

    def _control_post(self, request: Request) -> dict[str, Any]:
        body = body_of(request)
        post = self.world.add_post(
            body["author"],
            body.get("text", ""),
            reply_to=body.get("reply_to"),
            quote_of=body.get("quote_of"),
            retweet_of=body.get("retweet_of"),
        )
        return {"id": post.id}

    def _control_dm(self, request: Request) -> dict[str, Any]:
        body = body_of(request)
        event = self.world.add_dm(body["sender"], body["recipient"], body["text"])
        return {"id": event.id}

    def _control_clock(self, request: Request) -> dict[str, Any]:
        return {"now": self.clock.advance(float(body_of(request).get("advance_seconds", 0))).isoformat()}

    def _control_fault(self, request: Request) -> dict[str, Any]:
        body = body_of(request)
        self.inject_fault(
            body["route"], body["kind"], times=int(body.get("times", 1)), skip=int(body.get("skip", 0))
        )
        return {"faults": len(self.faults)}
