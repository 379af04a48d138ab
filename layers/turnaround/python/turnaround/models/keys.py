"""The action-link secret's keys, as the secrets adapter reads them and the link signers use them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class ActionLinkKeys:
    """The link secret's current version, and the one before it while links it signed may be alive."""

    current: bytes
    previous: bytes | None = None

    def __post_init__(self) -> None:
        for key in filter(None, (self.current, self.previous)):
            if len(key) < 32:
                raise ValueError("action link secret must be at least 32 bytes")


class SignedClaim(BaseModel):
    """What a signed link carries (links.PurposeLinkSigner): each kind adds what it acts on."""

    model_config = ConfigDict(defer_build=True)

    expires_at: int  # epoch seconds
