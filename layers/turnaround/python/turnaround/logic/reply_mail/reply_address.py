"""Per-case Reply-To addresses: ``case+<token>@<reply domain>``, signed like the action links.

The token packs the case, a hash of the person the address was issued to and an expiry, and an
HMAC-SHA256 (truncated to 80 bits) over them, keyed from the action-link secret with a purpose label
so a link signature can never be replayed as an address. It is lowercase base32: mail systems may
lowercase a local part, and an email local part holds at most 64 characters (this one uses 49).

The address is not a bearer credential: a reply must also come from the case's current rep or the
supervisor, with SES's SPF/DKIM/DMARC verdicts passing. The token only says which case a reply is
for, and is checked (signature, then expiry) before anything in the message is parsed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from turnaround.exceptions import TurnaroundError

VERSION = 1
_BODY = struct.Struct(">BQI4s")  # version, case tweet id, expires_at, recipient hash
_MAC_BYTES = 10
_LOCAL_PART = re.compile(r"^case\+([a-z2-7]{44})$")
CASE_ID = re.compile(r"^case-([0-9]{1,19})$")


class ReplyAddressInvalid(TurnaroundError):
    """The reply address is not one we issued (forged, truncated or altered)."""


class ReplyAddressExpired(TurnaroundError):
    """The reply address is older than its lifetime; a newer email about the case has a fresh one."""


@dataclass(frozen=True)
class ReplyClaim:
    case_id: str
    recipient_hash: str
    expires_at: int

    def issued_to(self, email: str) -> bool:
        return hmac.compare_digest(self.recipient_hash, recipient_hash(email))


def recipient_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:8]


def thread_anchor(case_id: str, domain: str) -> str:
    """The Message-ID every email about a case refers to, so mail clients show one thread."""
    return f"<{case_id}.thread@{domain}>"


class ReplyAddressSigner:
    """``secret``: the key, or a callable that reads it on first use (once), so building the signer
    reads nothing: in Lambda that runs at INIT, which makes no call to AWS, and an invocation that
    makes or checks no address (a stream record that is no DM) never reads the secret."""

    def __init__(self, secret: bytes | Callable[[], bytes], domain: str):
        if not domain or "@" in domain:
            raise ValueError("reply domain must be a bare domain, e.g. reply.acme.example")
        self.domain = domain.lower()
        self._secret = secret
        self._derived: bytes | None = None
        if isinstance(secret, bytes):
            self._derived = self._derive(secret)  # a secret that is too short fails here

    @staticmethod
    def _derive(secret: bytes) -> bytes:
        if len(secret) < 32:
            raise ValueError("reply address secret must be at least 32 bytes")
        return hmac.new(secret, b"turnaround reply address v1", hashlib.sha256).digest()

    @property
    def _key(self) -> bytes:
        if self._derived is None:
            secret = self._secret
            self._derived = self._derive(secret if isinstance(secret, bytes) else secret())
        return self._derived

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def address(self, case_id: str, *, recipient: str, expires_at: int) -> str:
        match = CASE_ID.match(case_id)
        if not match:
            raise ValueError(f"cannot make a reply address for {case_id!r}")
        body = _BODY.pack(VERSION, int(match.group(1)), expires_at, bytes.fromhex(recipient_hash(recipient)))
        token = base64.b32encode(body + self._mac(body)).decode().rstrip("=").lower()
        return f"case+{token}@{self.domain}"

    def verify(self, address: str, *, now: datetime) -> ReplyClaim:
        local, _, domain = address.strip().lower().rpartition("@")
        match = _LOCAL_PART.match(local)
        if domain != self.domain or not match:
            raise ReplyAddressInvalid(f"{address[:100]!r} is not a reply address of this deployment")
        raw = base64.b32decode(match.group(1).upper() + "====")
        if base64.b32encode(raw).decode().rstrip("=").lower() != match.group(1):
            raise ReplyAddressInvalid("reply address is not in canonical form")  # altered padding bits
        body, mac = raw[: _BODY.size], raw[_BODY.size :]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise ReplyAddressInvalid("reply address signature does not match")
        version, tweet_id, expires_at, recipient = _BODY.unpack(body)
        if version != VERSION:
            raise ReplyAddressInvalid(f"unknown reply address version {version}")
        if now.timestamp() >= expires_at:
            raise ReplyAddressExpired("this reply address has expired")
        return ReplyClaim(f"case-{tweet_id}", recipient.hex(), expires_at)

    def find(self, addresses: list[str]) -> str | None:
        """The first of ``addresses`` that looks like one of our reply addresses (unverified)."""
        for address in addresses:
            local, _, domain = address.strip().lower().rpartition("@")
            if domain == self.domain and local.startswith("case+"):
                return address
        return None
