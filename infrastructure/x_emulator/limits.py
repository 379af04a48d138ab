"""Per-user 15-minute rate-limit windows and the x-rate-limit-* headers X sends."""

from __future__ import annotations

import threading

from x_emulator.problems import ProblemError

WINDOW_SECONDS = 15 * 60

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


def limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


class RateLimiter:
    """A fixed window per (route, user) that starts at the window's first call."""

    def __init__(self, rate_limits: dict[str, int] | None, lock: threading.RLock):
        self.limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self._lock = lock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def take(self, endpoint: str, user_id: str, now: float) -> dict[str, str]:
        """Count one call; answer its headers, or raise X's 429 once the window is used up."""
        limit = self.limits[endpoint]
        with self._lock:
            start, used = self._windows.get((endpoint, user_id), (now, 0))
            if now >= start + WINDOW_SECONDS:
                start, used = now, 0
            reset = int(start + WINDOW_SECONDS)
            if used >= limit:
                raise ProblemError(
                    429,
                    "Too Many Requests",
                    "Too Many Requests",
                    headers=limit_headers(limit, 0, reset),
                )
            self._windows[(endpoint, user_id)] = (start, used + 1)
            return limit_headers(limit, limit - used - 1, reset)
