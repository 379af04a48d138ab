"""Signed, expiring action links for the rep's email.

A link carries only an escalation id, the action and an expiry, signed with HMAC-SHA256; the Step
Functions task token stays in DynamoDB. Single use is enforced when the POST consumes the escalation
(a conditional write), so every link of one email dies together once any of them is used.

Tokens are ``<key id>.<claim>.<mac>``: the key id names which version of the secret signed it, so after
a rotation links signed with the previous version keep working until they expire, and one two
rotations old is refused. Tokens from before key ids (``<claim>.<mac>``) are checked with the current key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, Generic, Literal, TypeVar

from pydantic import ValidationError

from turnaround.exceptions import TurnaroundError
from turnaround.models.keys import ActionLinkKeys, SignedClaim

Action = Literal["resolved", "not_resolved", "reassign", "retweet", "no_retweet"]
ACTIONS: tuple[Action, ...] = ("resolved", "not_resolved", "reassign")  # an escalation's links
AMPLIFY_ACTIONS: tuple[Action, ...] = ("retweet", "no_retweet")  # "Retweet this?" after resolution
MAX_TOKEN_LENGTH = 512


class ActionLinkInvalid(TurnaroundError):
    """Forged, truncated or tampered link."""


class ActionLinkExpired(TurnaroundError):
    """The link's expiry has passed."""


class ActionLinkUsed(TurnaroundError):
    """The escalation was already acted on (replayed link, or another link of the same email)."""


class ActionClaim(SignedClaim):
    escalation_id: str
    case_id: str
    action: Action


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: bytes) -> str:
    """Names a key without revealing it: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


class ActionLinkSigner:
    """Signs with the current key; verifies with whichever of current and previous the token names.
    ``keys`` may be a callable, read on every use, so a rotated secret reaches a warm container."""

    def __init__(self, keys: bytes | ActionLinkKeys | Callable[[], ActionLinkKeys]):
        if isinstance(keys, bytes):
            keys = ActionLinkKeys(keys)  # a key that is too short fails here, at wiring
        if isinstance(keys, ActionLinkKeys):
            fixed = keys
            self._keys: Callable[[], ActionLinkKeys] = lambda: fixed
        else:
            # Read on first use, not at wiring: in Lambda the wiring runs at INIT, which makes no
            # call to AWS, and a task that signs no link never reads the secret.
            self._keys = keys

    @property
    def keys(self) -> Callable[[], ActionLinkKeys]:
        """The keys as read on each use: for a purpose signer (PurposeLinkSigner) on the same secret."""
        return self._keys

    @staticmethod
    def _mac(key: bytes, signed: str) -> str:
        return _b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())

    def sign(self, claim: ActionClaim) -> str:
        key = self._keys().current
        body = _b64(json.dumps(claim.model_dump(), separators=(",", ":"), sort_keys=True).encode())
        signed = f"{key_id(key)}.{body}"
        return f"{signed}.{self._mac(key, signed)}"

    def verify(self, token: str, *, now: datetime) -> ActionClaim:
        # Tokens are base64url: anything else (non-ASCII included, which compare_digest rejects) is forged.
        if (
            not token
            or len(token) > MAX_TOKEN_LENGTH
            or token.count(".") not in (1, 2)
            or not token.isascii()
        ):
            raise ActionLinkInvalid("malformed action link")
        signed, mac = token.rsplit(".", 1)
        keys = self._keys()
        if signed.count("."):
            kid, body = signed.split(".")
            key = next(
                (k for k in (keys.current, keys.previous) if k and hmac.compare_digest(kid, key_id(k))), None
            )
            if key is None:
                raise ActionLinkInvalid("action link was signed with a retired key")
        else:
            key, body = keys.current, signed
        if not hmac.compare_digest(mac, self._mac(key, signed)):
            raise ActionLinkInvalid("action link signature does not match")
        try:
            claim = ActionClaim.model_validate_json(_unb64(body))
        except (ValueError, ValidationError) as exc:
            raise ActionLinkInvalid("action link payload is invalid") from exc
        if now.timestamp() >= claim.expires_at:
            raise ActionLinkExpired("this action link has expired")
        return claim


ClaimT = TypeVar("ClaimT", bound=SignedClaim)


class PurposeLinkSigner(Generic[ClaimT]):
    """HMAC-SHA256 like escalation links, with the key bound to the link's ``purpose``: one kind of
    link can never be replayed as another. A subclass names the purpose and the claim it carries."""

    purpose: ClassVar[str]
    claim_type: ClassVar[type[SignedClaim]]

    def __init__(self, secret: bytes | Callable[[], ActionLinkKeys]):
        # Read on every use (like ActionLinkSigner), so a rotated secret reaches a warm container; a
        # digest's links are signed with the current key only (the next digest re-sends fresh ones).
        # A callable is read on first use, not here (in Lambda this runs at INIT, which makes no
        # call to AWS; an empty digest signs nothing); fixed bytes are checked at once.
        if isinstance(secret, bytes):
            fixed = ActionLinkKeys(secret)  # a key that is too short fails here
            self._keys: Callable[[], ActionLinkKeys] = lambda: fixed
        else:
            self._keys = secret

    def _mac(self, body: str) -> str:
        purpose = f"turnaround {self.purpose} links".encode()
        key = hmac.new(self._keys().current, purpose, hashlib.sha256).digest()
        return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())

    def sign(self, claim: ClaimT) -> str:
        body = _b64(json.dumps(claim.model_dump(), separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, *, now: datetime) -> ClaimT:
        kind = self.purpose
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1 or not token.isascii():
            raise ActionLinkInvalid(f"malformed {kind} link")
        body, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise ActionLinkInvalid(f"{kind} link signature does not match")
        try:
            claim = self.claim_type.model_validate_json(_unb64(body))
        except (ValueError, ValidationError) as exc:
            raise ActionLinkInvalid(f"{kind} link payload is invalid") from exc
        if now.timestamp() >= claim.expires_at:
            raise ActionLinkExpired(f"this {kind} link has expired")
        return claim  # type: ignore[return-value]  # claim_type is ClaimT in each subclass
