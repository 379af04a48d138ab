"""The one source of "now" for everything that stamps or compares time.

Deployed, it is the system clock. The embedded cloud sets it to its simulated clock, so rate-limit
resets from X, case timestamps and link expiry all live in the same time as the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def utc_now() -> datetime:
    return _source() if _source is not None else datetime.now(UTC)


def use(source: Callable[[], datetime] | None) -> None:
    """Make ``utc_now`` answer from ``source`` (None: the system clock again)."""
    global _source
    _source = source


def sleep(seconds: float) -> None:
    """Wait in real time when deployed; the embedded cloud's simulated clock moves on its own ticks."""
    if _source is None and seconds > 0:
        time.sleep(seconds)
