"""Signed, expiring action links for the rep's email.

A link carries only an escalation id, the action and an expiry, signed with HMAC-SHA256; the Step
Functions task token stays in DynamoDB. Single use is enforced when the POST consumes the escalation
(a conditional write), so every link of one email dies together once any of them is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ValidationError

from turnaround.exceptions import TurnaroundError

Action = Literal["resolved", "not_resolved", "reassign"]
ACTIONS: tuple[Action, ...] = ("resolved", "not_resolved", "reassign")
MAX_TOKEN_LENGTH = 512


class ActionLinkInvalid(TurnaroundError):
    """Forged, truncated or tampered link."""


class ActionLinkExpired(TurnaroundError):
    """The link's expiry has passed."""


class ActionLinkUsed(TurnaroundError):
    """The escalation was already acted on (replayed link, or another link of the same email)."""


class ActionClaim(BaseModel):
    escalation_id: str
    case_id: str
    action: Action
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ActionLinkSigner:
    def __init__(self, secret: bytes):
        if len(secret) < 32:
            raise ValueError("action link secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def sign(self, claim: ActionClaim) -> str:
        body = _b64(json.dumps(claim.model_dump(), separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, *, now: datetime) -> ActionClaim:
        # Tokens are base64url: anything else (non-ASCII included, which compare_digest rejects) is forged.
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1 or not token.isascii():
            raise ActionLinkInvalid("malformed action link")
        body, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise ActionLinkInvalid("action link signature does not match")
        try:
            claim = ActionClaim.model_validate_json(_unb64(body))
        except (ValueError, ValidationError) as exc:
            raise ActionLinkInvalid("action link payload is invalid") from exc
        if now.timestamp() >= claim.expires_at:
            raise ActionLinkExpired("this action link has expired")
        return claim
