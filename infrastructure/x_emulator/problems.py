"""X's problem+json error answers, shared by every part of the emulator."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

PROBLEMS = "https://api.twitter.com/2/problems/"


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
        *,
        with_status: bool = True,
    ):
        super().__init__(detail)
        self.status, self.title, self.detail, self.problem = status, title, detail, problem
        self.extra, self.headers, self.with_status = extra or {}, headers or {}, with_status

    def response(self, headers: dict[str, str] | None = None) -> Response:
        """`headers` (the rate-limit ones) are sent unless the problem carries its own."""
        body: dict[str, Any] = {"title": self.title, "detail": self.detail, "type": self.problem}
        if self.with_status:
            body["status"] = self.status
        body.update(self.extra)
        return Response(
            json.dumps(body),
            status=self.status,
            headers={**(headers or {}), **self.headers},
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
