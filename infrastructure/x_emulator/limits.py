"""Per-user 15-minute rate-limit windows and the x-rate-limit-* headers X sends."""

from __future__ import annotations

import threading

from x_emulator.problems import ProblemError

WINDOW_SECONDS = 15 * 60

# Requests per 15-minute window per user token (x-api/fundamentals/rate-limits).
DEFAULT_RATE_LIMITS = {
    "mentions": 300,
    "user_posts": 900,
    "quote_posts": 75,
    "me": 75,
    "create_tweet": 100,
    "create_dm": 15,
    "dm_events": 15,
    "retweet": 50,
    "like": 50,
}


DAY_SECONDS = 24 * 60 * 60
# 24-hour windows on top of the 15-minute ones (POST /2/tweets: 10,000 per app a day). X publishes no
# per-user daily figure for pay-per-use; the user window defaults to the app's unless configured.
DEFAULT_DAILY_LIMITS = {"create_tweet": 10_000}


def limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


class RateLimiter:
    """A fixed window per (route, user) that starts at the window's first call."""

    def __init__(
        self,
        rate_limits: dict[str, int] | None,
        lock: threading.RLock,
        daily_limits: dict[str, int] | None = None,
    ):
        self.limits = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self.daily_limits = {**DEFAULT_DAILY_LIMITS, **(daily_limits or {})}
        self._lock = lock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def _count(self, key: tuple[str, str], now: float, length: int) -> tuple[float, int]:
        start, used = self._windows.get(key, (now, 0))
        if now >= start + length:
            start, used = now, 0
        return start, used

    def take_daily(self, endpoint: str, user_id: str, now: float) -> dict[str, str]:
        """The x-user-limit-24hour-* and x-app-limit-24hour-* headers; 429 once a day is used up."""
        if endpoint not in self.daily_limits:
            return {}
        limit = self.daily_limits[endpoint]
        headers: dict[str, str] = {}
        with self._lock:
            windows = {"user": (f"{endpoint}/24h", user_id), "app": (f"{endpoint}/24h", "app")}
            counts = {scope: self._count(key, now, DAY_SECONDS) for scope, key in windows.items()}
            for scope, (start, used) in counts.items():
                headers[f"x-{scope}-limit-24hour-limit"] = str(limit)
                headers[f"x-{scope}-limit-24hour-remaining"] = str(max(0, limit - used - 1))
                headers[f"x-{scope}-limit-24hour-reset"] = str(int(start + DAY_SECONDS))
            if any(used >= limit for _, used in counts.values()):
                for scope in counts:
                    headers[f"x-{scope}-limit-24hour-remaining"] = "0"
                raise ProblemError(429, "Too Many Requests", "Too Many Requests", headers=headers)
            for scope, key in windows.items():
                self._windows[key] = (counts[scope][0], counts[scope][1] + 1)
        return headers

    def take(self, endpoint: str, user_id: str, now: float) -> dict[str, str]:
        """Count one call; answer its headers, or raise X's 429 once the window is used up."""
        limit = self.limits[endpoint]
        with self._lock:
            start, used = self._count((endpoint, user_id), now, WINDOW_SECONDS)
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
