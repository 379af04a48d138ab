"""Faults injected per route: X's errors, timeouts and broken bodies, on a schedule (skip, times)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass

from werkzeug.wrappers import Response

from x_emulator.billing import credits_depleted, usage_capped
from x_emulator.limits import WINDOW_SECONDS, limit_headers
from x_emulator.problems import ProblemError

FAULT_KINDS = {
    "server_error",
    "timeout",  # nothing is done; the answer comes after delay_seconds (past the client's timeout)
    "lost_response",  # the request is carried out, then the answer stalls: X made it, the client never hears
    "rate_limit",
    "payment_required",
    "usage_capped",
    "malformed",
    "truncated",
}


@dataclass
class Fault:
    route: str  # endpoint name, e.g. "mentions", or "*"
    kind: str
    times: int = 1
    skip: int = 0
    delay_seconds: float = 2.0


class FaultPlan:
    def __init__(self, lock: threading.RLock, routes: set[str]):
        self._lock, self._routes = lock, routes
        self.faults: list[Fault] = []
        self.fired: Counter[str] = Counter()  # "route kind" -> how many requests it answered

    def inject(
        self, route: str, kind: str, *, times: int = 1, skip: int = 0, delay_seconds: float = 2.0
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if route != "*" and route not in self._routes:
            raise ValueError(f"unknown route {route!r}; one of {sorted(self._routes)} or '*'")
        with self._lock:
            self.faults.append(Fault(route, kind, times, skip, delay_seconds))

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.route not in (endpoint, "*") or fault.times <= 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                self.fired[f"{endpoint} {fault.kind}"] += 1
                return fault
        return None

    @property
    def pending(self) -> int:
        return sum(max(0, f.times) for f in self.faults)


def fault_response(fault: Fault, headers: dict[str, str], now: float) -> Response:
    """The answer a fault gives instead of the route's (a timeout is handled by the dispatcher)."""
    if fault.kind == "server_error":
        return ProblemError(503, "Service Unavailable", "Service Unavailable").response()
    if fault.kind == "rate_limit":
        reset = int(now) + WINDOW_SECONDS
        return ProblemError(
            429,
            "Too Many Requests",
            "Too Many Requests",
            headers=limit_headers(int(headers["x-rate-limit-limit"]), 0, reset),
        ).response()
    if fault.kind == "payment_required":
        return credits_depleted().response(headers)
    if fault.kind == "usage_capped":
        return usage_capped().response(headers)
    if fault.kind == "malformed":
        body = {"data": [{"id": "not-a-number", "text": None}], "meta": {"result_count": "x"}}
        return Response(json.dumps(body), status=200, headers=headers, content_type="application/json")
    return Response('{"data": [{"id": "1", "te', status=200, headers=headers, content_type="application/json")
