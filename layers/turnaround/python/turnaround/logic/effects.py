"""The one place an external effect (public reply, DM, retweet, email) is made: claim, act, record.

Every effect is claimed in the outbox (``OUTBOX#<key>``) before it is made and recorded after, so
Step Functions' retries, Lambda's async retries, a schedule firing twice and a redelivered email
never repeat it, and a retry after a failure never loses it. The rules, in one place:

- **A failure that proves nothing went out releases the claim**, so the retry makes the effect:
  SES refused the email (``EmailNotSent``: throttling, rejection), or X answered 429, 5xx, 402 or
  usage-capped. Nothing is lost on a transient failure.
- **Public posts and retweets** (``post_once``): X refuses an identical post, and our public texts
  are deterministic per case, so after an attempt that may have posted (a timeout with no status, a
  crash after posting, a failed record) the retry posts again and X's duplicate refusal is read as
  "already posted". Nothing is lost, nothing doubled.
- **Emails and DMs** (``at_most_once``): X and SES would repeat them, so after an attempt that may
  have made the effect the retry never makes it again. A DM can be looked for on X
  (``find_earlier``, e.g. ``find_our_dm``): found, it is recorded as made; otherwise the effect is
  *in doubt*: logged as an error and counted in the ``EffectsInDoubt`` metric (its alarm emails ops)
  so that a person checks. A lost escalation email is also caught by the SLA reminder.
- **A refusal is recorded** (``refused``): the claim completes with the reason, so nothing retries
  what X refused for good (DMs closed, not summoned).
- **One effect may pre-empt another** (``pre_empt``): the rep's emailed reply settles the automated
  ack's claim as pre-empted before it posts, with one conditional write that the ack's own claim
  races, so either the ack is claimed first (it posts, then the rep's reply follows it) or it is
  never made.
- **Claim or record failing** (DynamoDB): a failed claim made nothing; a failed record leaves the
  claim pending, which the rules above treat as "may have been made".

This module also owns the posting hold that X's billing stop puts in place. Its callers: the
workflow's tasks (ack, notify, alerts, follow-up, amplify), the automated DM confirmation
(``ingest/dms.py``), the rep's emailed replies and the customer's DMs to the rep
(``reply_mail/reply_desk.py``) and the unsure digest (``rep_actions/review.py``);
``tests/unit/test_one_effects_module.py`` keeps it that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.dal.repositories import Repositories
from turnaround.exceptions import (
    EmailNotSent,
    XApiError,
    XApiUnavailable,
    XCreditsExhausted,
    XDuplicateContent,
    XRateLimited,
    XReplyNotAllowed,
    XUsageCapped,
)
from turnaround.models.outbox import OutboxClaim, PostingHold
from turnaround.observability import logger, metrics

if TYPE_CHECKING:
    from turnaround.adapters.x_api import XApi

Clock = Callable[[], datetime]
IN_DOUBT_METRIC = "EffectsInDoubt"


def nothing_went_out(error: BaseException) -> bool:
    """True when the failed attempt provably made no effect, so a retry may make it."""
    if isinstance(error, EmailNotSent | XRateLimited | XCreditsExhausted | XUsageCapped):
        return True
    # X answered with a server error; a timeout (no status) may have been sent after all.
    return isinstance(error, XApiUnavailable) and error.status is not None


def x_refused(error: BaseException) -> bool:
    """True when X refused the request (a 4xx other than 429 and 402): nothing went out."""
    return isinstance(error, XApiError) and error.status is not None and 400 <= error.status < 500


def find_our_dm(x: XApi, brand_id: str, text: str) -> Callable[[OutboxClaim], dict[str, Any] | None]:
    """``find_earlier`` for a DM: our identical DM among the newest events, sent since the claim
    (X does not refuse a repeated DM, so this is how a retry learns that an earlier attempt sent it)."""

    def find(claim: OutboxClaim) -> dict[str, Any] | None:
        since = claim.claimed_at.replace(microsecond=0) if claim.claimed_at else None  # X: milliseconds
        page, _ = x.dm_events_page(max_results=20)  # ours would be among the newest
        for event in page.data:
            if (
                event.sender_id == brand_id
                and event.text == text
                and (since is None or event.created_at is None or event.created_at >= since)
            ):
                return {"result_id": event.id}
        return None

    return find


def ack_effect_key(case_id: str) -> str:
    """The automated ack's effect, which the rep's emailed reply pre-empts (``pre_empt``)."""
    return f"{case_id}#ack"


@dataclass(frozen=True)
class Once:
    """What happened to an effect: ``made_now`` when this call made it, or found and recorded an
    earlier attempt's (the caller's follow-up work runs); otherwise ``recorded`` is the earlier claim
    as stored: DONE, or PENDING when the effect is in doubt."""

    made_now: bool
    recorded: OutboxClaim  # what this call recorded, or the earlier claim as stored

    @property
    def in_doubt(self) -> bool:
        return not self.made_now and self.recorded.state == "PENDING"


@dataclass
class Effects:
    store: Repositories
    clock: Clock

    # --- the posting hold ----------------------------------------------------------------------

    def posting_hold(self) -> PostingHold | None:
        return self.store.outbox.posting_hold()

    def check_posting_hold(self) -> None:
        """Raise XCreditsExhausted while X's billing stop holds all posting."""
        hold = self.posting_hold()
        if hold:
            raise XCreditsExhausted(f"posting is on hold since {hold.since}: {hold.reason}")

    def hold_posting(self, reason: str) -> tuple[str, bool]:
        """Stop all posting until ops delete the hold; returns the episode (when the standing hold
        began) and whether this call began it."""
        hold, placed = self.store.outbox.hold_posting(since=self.clock().isoformat(), reason=reason)
        return hold.since, placed

    # --- effects -------------------------------------------------------------------------------

    def tried(self, key: str) -> bool:
        """Whether the effect ``key`` was ever claimed: made, or in doubt after a crash."""
        return self.store.outbox.earlier(key) is not None

    def post_once(self, key: str, post: Callable[[], str | None]) -> tuple[str | None, bool]:
        """Make a public post or retweet once. Returns (post id, or None if unknown; posted now)."""
        once = self.post(key, post)
        return once.recorded.result_id, once.made_now

    def post(
        self,
        key: str,
        post: Callable[[], str | None],
        *,
        channel: str | None = None,
        record: dict[str, Any] | None = None,
    ) -> Once:
        """``post_once`` with the whole record: what was posted (with ``record``'s fields, e.g. the
        outcome), or the earlier claim."""
        earlier = self.store.outbox.claim(key, claimed_at=self.clock(), channel=channel)
        if earlier and earlier.state == "DONE":
            return Once(made_now=False, recorded=earlier)
        try:
            result_id = self._act(key, post, releasable=earlier is None, repeatable=True)
        except (XDuplicateContent, XReplyNotAllowed):
            if earlier is None:
                raise  # a real refusal: the caller records it (``refused``) or lets it fail
            # A previous attempt posted and did not record it; X refuses the identical retry.
            logger.warning("earlier attempt already posted", extra={"outbox": key})
            result_id = None
        return self._complete(key, {"result_id": result_id, "channel": channel, **(record or {})})

    def at_most_once(
        self,
        key: str,
        act: Callable[[], dict[str, Any]],
        *,
        channel: str | None = None,
        find_earlier: Callable[[OutboxClaim], dict[str, Any] | None] | None = None,
    ) -> Once:
        """Make an effect that X or SES would repeat (an email, a DM) at most once. ``act`` makes it
        and returns the fields to record with it (``OutboxRepository.complete``'s); ``find_earlier``
        looks for an earlier attempt's effect and returns its fields, or None."""
        earlier = self.store.outbox.claim(key, claimed_at=self.clock(), channel=channel)
        if earlier and earlier.state == "DONE":
            return Once(made_now=False, recorded=earlier)
        if earlier:
            found = find_earlier(earlier) if find_earlier else None
            if found is None:
                self._in_doubt(key, f"an attempt claimed it at {earlier.claimed_at} and never recorded it")
                return Once(made_now=False, recorded=earlier)
            logger.info("earlier attempt's effect found; recorded now", extra={"outbox": key})
            return self._complete(key, {"channel": channel, **found})
        # With ``find_earlier`` the retry settles an unanswered attempt; without, it is in doubt now.
        recorded = self._act(key, act, releasable=True, repeatable=find_earlier is not None)
        return self._complete(key, {"channel": channel, **recorded})

    def claimed(self, key: str) -> bool:
        """Whether the effect ``key`` was claimed: made, being made, or in doubt."""
        return self.store.outbox.earlier(key) is not None

    def pre_empt(self, key: str, *, by: str) -> OutboxClaim | None:
        """Make sure the effect ``key`` never happens after the effect ``by``, which goes next: it is
        settled as pre-empted unless it was claimed already. None: pre-empted now, so ``by`` may go.
        Otherwise the earlier claim: DONE (made, refused or pre-empted) and ``by`` follows it, or
        PENDING (being made, or in doubt) and ``by`` must wait for it to settle."""
        return self.store.outbox.pre_empt(key, by=by, at=self.clock())

    def undo_pre_emption(self, key: str, *, by: str) -> None:
        """``by`` made nothing after all (X refused it, or said nothing went out): ``key`` may be
        made again (unless it already read the pre-emption and gave up)."""
        self.store.outbox.undo_pre_emption(key, by=by)

    def refused(self, key: str, outcome: str, *, channel: str | None = None) -> None:
        """Record that the effect was refused for good (nothing went out), so no retry makes it."""
        self.store.outbox.complete(key, outcome=outcome, channel=channel, completed_at=self.clock())

    # --- the steps -----------------------------------------------------------------------------

    def _act(self, key: str, act: Callable[[], Any], *, releasable: bool, repeatable: bool) -> Any:
        """``repeatable``: a retry can tell whether an unanswered attempt made the effect."""
        try:
            return act()
        except Exception as error:
            if nothing_went_out(error):
                # Only this attempt's own claim: an earlier attempt's may have made the effect.
                if releasable:
                    self.store.outbox.release(key)  # the retry makes it
            elif x_refused(error):
                pass  # X said no: nothing went out; the caller records the refusal or fails
            elif repeatable:
                logger.warning("effect may have been made; the retry will tell", extra={"outbox": key})
            else:
                self._in_doubt(key, f"the attempt failed without an answer ({type(error).__name__})")
            raise

    def _complete(self, key: str, fields: dict[str, Any]) -> Once:
        fields = {"completed_at": self.clock(), **fields}
        self.store.outbox.complete(key, **fields)
        return Once(made_now=True, recorded=OutboxClaim(state="DONE", **fields))

    def _in_doubt(self, key: str, why: str) -> None:
        """The effect may or may not have gone out, and repeating it could double it: a person checks
        (``EffectsInDoubtAlarm`` on this metric; the log line names the effect)."""
        metrics.add_metric(name=IN_DOUBT_METRIC, unit=MetricUnit.Count, value=1)
        logger.error(
            "effect in doubt: it may have gone out, so it is not repeated", extra={"outbox": key, "why": why}
        )
