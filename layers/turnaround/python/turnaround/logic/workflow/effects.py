"""The one place the workflow makes an external effect (reply, DM, retweet, email): claim, act, record.

Every effect is claimed in the outbox before it is made and recorded after, so Step Functions'
retries and duplicate invocations never repeat it. There are two kinds:

- ``post_once`` (public posts and retweets): X refuses an identical post, and public texts are
  deterministic per case, so when an attempt died after posting but before recording, the retry
  posts again and X's refusal is read as "already posted". Nothing is lost, nothing doubled.
- ``at_most_once`` (emails and DMs): an unfinished claim may mean the effect happened, so it is
  never repeated -- unless the attempt failed in a way that proves nothing went out (SES refused;
  X answered 429, 5xx, 402 or usage-capped), in which case the claim is released and the retry
  makes the effect. A lost email is then caught by the SLA reminder.

This module also owns the posting hold that X's billing stop puts in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from turnaround.dal.repositories import Repositories
from turnaround.exceptions import (
    EmailNotSent,
    XApiUnavailable,
    XCreditsExhausted,
    XDuplicateContent,
    XRateLimited,
    XReplyNotAllowed,
    XUsageCapped,
)
from turnaround.models.outbox import OutboxClaim
from turnaround.observability import logger

Clock = Callable[[], datetime]


def nothing_went_out(error: Exception) -> bool:
    """True when the failed attempt provably made no effect, so a retry may make it."""
    if isinstance(error, EmailNotSent | XRateLimited | XCreditsExhausted | XUsageCapped):
        return True
    # X answered with a server error; a timeout (no status) may have been sent after all.
    return isinstance(error, XApiUnavailable) and error.status is not None


@dataclass(frozen=True)
class Once:
    """What happened to an at-most-once effect: made now (``recorded``), or claimed earlier."""

    made_now: bool
    recorded: OutboxClaim  # what this attempt recorded, or the earlier claim as stored


@dataclass
class Effects:
    store: Repositories
    clock: Clock

    def check_posting_hold(self) -> None:
        """Raise XCreditsExhausted while X's billing stop holds all posting."""
        hold = self.store.outbox.posting_hold()
        if hold:
            raise XCreditsExhausted(f"posting is on hold since {hold.since}: {hold.reason}")

    def hold_posting(self, reason: str) -> tuple[str, bool]:
        """Stop all posting until ops delete the hold; returns the episode (when the standing hold
        began) and whether this call began it."""
        hold, placed = self.store.outbox.hold_posting(since=self.clock().isoformat(), reason=reason)
        return hold.since, placed

    def post_once(self, key: str, post: Callable[[], str]) -> tuple[str | None, bool]:
        """Make a public post at most once. Returns (post id, or None if unknown; posted now)."""
        earlier = self.store.outbox.claim(key, claimed_at=self.clock())
        if earlier and earlier.state == "DONE":
            return earlier.result_id, False
        try:
            result_id: str | None = post()
        except (XDuplicateContent, XReplyNotAllowed):
            if earlier is None:
                raise
            # A previous attempt posted and died before recording it; X refuses the identical retry.
            logger.warning("earlier attempt already posted", extra={"outbox": key})
            result_id = None
        self.store.outbox.complete(key, result_id=result_id, completed_at=self.clock())
        return result_id, True

    def at_most_once(self, key: str, act: Callable[[], dict[str, Any]]) -> Once:
        """Make an effect that X or SES would repeat (an email, a DM) at most once. ``act`` makes it
        and returns the fields to record with it (``OutboxRepository.complete``'s)."""
        earlier = self.store.outbox.claim(key, claimed_at=self.clock())
        if earlier:
            return Once(made_now=False, recorded=earlier)
        try:
            recorded = act()
        except Exception as error:
            if nothing_went_out(error):
                self.store.outbox.release(key)  # the retry may make it
            raise
        self.store.outbox.complete(key, **recorded)
        return Once(made_now=True, recorded=OutboxClaim(state="DONE", **recorded))
