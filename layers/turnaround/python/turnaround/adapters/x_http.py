"""X's HTTP side: the tweepy client and the mapping of its errors. Imported on the first call to X
(``x_api`` loads it lazily), so functions that never call X never load tweepy, requests or oauthlib.

tweepy always builds URLs on https://api.twitter.com; a requests adapter mounted on its session adds a
timeout to every call (tweepy sets none) and, for local runs and tests, sends the request to another
base URL. The OAuth 1.0a signature is computed before the adapter runs, so it stays valid for X's host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter

from turnaround.adapters.x_api import X_HOST, _reset_at
from turnaround.exceptions import (
    XApiError,
    XApiUnavailable,
    XBlockedByCustomer,
    XCreditsExhausted,
    XDirectMessageRefused,
    XDuplicateContent,
    XForbidden,
    XPostDeleted,
    XRateLimited,
    XReplyNotAllowed,
    XUnauthorized,
    XUsageCapped,
)

if TYPE_CHECKING:
    from turnaround.adapters.secrets import XCredentials

# What a call to X can raise besides our own exceptions; ``translate`` maps each to a domain error.
ERRORS = (tweepy.TweepyException, requests.RequestException)


class RoutingTimeoutAdapter(HTTPAdapter):
    """Applies a default timeout and optionally rewrites X's host to ``base_url``."""

    def __init__(self, *, timeout: float, base_url: str | None = None):
        super().__init__(max_retries=0)
        self.timeout = timeout
        self.base_url = base_url.rstrip("/") if base_url else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.base_url and request.url:
            target, original = urlsplit(self.base_url), urlsplit(request.url)
            request.url = urlunsplit(
                (target.scheme, target.netloc, target.path + original.path, original.query, original.fragment)
            )
        return super().send(request, **kwargs)


def build_client(
    credentials: XCredentials, *, base_url: str | None = None, timeout: float = 10.0
) -> tweepy.Client:
    client = tweepy.Client(
        consumer_key=credentials.consumer_key.get_secret_value(),
        consumer_secret=credentials.consumer_secret.get_secret_value(),
        access_token=credentials.access_token.get_secret_value(),
        access_token_secret=credentials.access_token_secret.get_secret_value(),
        return_type=requests.Response,  # we need the rate-limit headers and validate the JSON ourselves
        wait_on_rate_limit=False,  # never sleep inside Lambda
    )
    client.session.mount(X_HOST + "/", RoutingTimeoutAdapter(timeout=timeout, base_url=base_url))
    return client


# What a 403's detail says, first match wins: X's words for each refusal.
FORBIDDEN: tuple[tuple[tuple[str, ...], type[XForbidden]], ...] = (
    (("duplicate content",), XDuplicateContent),
    (("deleted or not visible",), XPostDeleted),
    (("blocked from the author",), XBlockedByCustomer),
    (("reply", "mentioned"), XReplyNotAllowed),
    (("message",), XDirectMessageRefused),
)


def _problem(response: requests.Response | None) -> dict[str, Any]:
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def translate(exc: Exception) -> XApiError:
    """Map tweepy/requests errors to the domain exceptions Step Functions and the poller act on."""
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return XApiUnavailable(f"X API unreachable: {type(exc).__name__}")
    if not isinstance(exc, tweepy.HTTPException):
        return XApiError(str(exc))
    response = exc.response
    status = response.status_code if response is not None else None
    problem = _problem(response)
    kind, detail = str(problem.get("type", "")), str(problem.get("detail", "")) or str(exc)
    if isinstance(exc, tweepy.TooManyRequests):
        if kind.endswith("usage-capped"):
            return XUsageCapped(f"X usage cap reached: {detail}", status=429, problem_type=kind)
        return XRateLimited(f"X rate limit: {detail}", reset_at=_reset_at(response))
    if status == 402:
        return XCreditsExhausted(f"X credits exhausted: {detail}", status=402, problem_type=kind)
    if isinstance(exc, tweepy.Unauthorized):
        return XUnauthorized(f"X rejected our credentials: {detail}", status=401, problem_type=kind)
    if isinstance(exc, tweepy.Forbidden):
        lowered = detail.lower()
        refusal = next((error for words, error in FORBIDDEN if any(w in lowered for w in words)), XForbidden)
        return refusal(detail, status=403, problem_type=kind)
    if isinstance(exc, tweepy.TwitterServerError):
        return XApiUnavailable(f"X server error {status}", status=status)
    return XApiError(f"X API error {status}: {detail}", status=status, problem_type=kind)
