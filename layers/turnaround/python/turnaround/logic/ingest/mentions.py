"""Mention ingest: poll each monitored handle's mentions and store each one exactly once.

A pass pages newest-first from the checkpoint's ``since_id`` until X has nothing older, then writes
oldest-first (so a thread's root opens its case before replies attach) and only then moves
``since_id``. If the pass is cut short (429, exhausted window, error), what was read is still written
and the checkpoint records where the gap is (``resume_until_id``); the next run fetches only the gap.
Writes are conditional, so re-reading a page never duplicates anything.

X's mentions timeline reaches back only 800 posts. A pass asks from ``since_id - 1`` so that the
post at ``since_id`` (the newest already stored) comes back as the last one: if the pass ends without
it, more mentions arrived than X keeps, and the ones between are lost. That gap is recorded on the
checkpoint, logged, and counted (``MentionsBeyondReach``, alarmed). While mentions arrive faster than
one page a pass, the poller reads again sooner in the same invocation, within X's 300 calls/15 min.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround import clock as clocks
from turnaround.adapters.bedrock_triage import BedrockClassifier
from turnaround.adapters.secrets import CredentialStore
from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.dal.cases import ThreadCases
from turnaround.dal.mentions import MAX_TRANSACTION_ITEMS, UNKNOWN, PlannedWrite, RecordOutcome
from turnaround.dal.repositories import Repositories
from turnaround.dal.review_queue import ReviewQueue
from turnaround.exceptions import XApiError, XCreditsExhausted, XRateLimited, XUsageCapped
from turnaround.logic.triage import triage
from turnaround.models.mention import Author, Checkpoint, HandlePollResult, Mention
from turnaround.models.x import XTweet, XUser
from turnaround.observability import logger, metrics, one_subsegment
from turnaround.settings import PollerSettings

Clock = Callable[[], datetime]
DEFAULT_BACKOFF = timedelta(minutes=15)
# A handle's first pass (a new stack, or a new table) reads up to 800 mentions, weeks of them: a
# complaint older than this then goes to a person in the unsure digest, not into a case with a
# canned "we're on it" weeks late and every rep emailed at once.
FIRST_PASS_HORIZON = timedelta(hours=24)


@dataclass
class _Pass:
    first: bool = False  # the handle's first pass: nothing stored before it
    tweets: list[XTweet] = field(default_factory=list)
    users: dict[str, XUser] = field(default_factory=dict)
    quoted_authors: dict[str, str] = field(default_factory=dict)
    newest_id: str | None = None
    pages: int = 0
    reached_since: bool = False  # the post at since_id came back: nothing fell beyond X's reach
    remaining: int | None = None


def _threads_starting_in_the_gap(tweets: list[XTweet], since_id: str | None) -> list[XTweet]:
    """The replies among ``tweets`` (one interrupted pass, newest first) whose thread's first post is
    older than every post read and newer than ``since_id``: in the gap the next pass reads."""
    if not tweets:
        return []
    oldest = min(int(t.id) for t in tweets)
    after = int(since_id) if since_id else 0
    return [
        t
        for t in tweets
        if t.conversation_id and t.conversation_id != t.id and after < int(t.conversation_id) < oldest
    ]


@dataclass
class MentionIngestor:
    handle: str
    x: XApi
    store: Repositories
    clock: Clock = utc_now
    max_results: int = 100
    retention: timedelta = timedelta(days=180)
    on_stored: Callable[[Mention], None] | None = None  # opt-outs and follow-ups (workflow side)
    on_pass: Callable[[], None] | None = None  # before a pass writes: on_stored's per-pass reads reset
    classifier: BedrockClassifier | None = None  # optional Bedrock triage (BEDROCK_TRIAGE_MODEL_ID)
    time_left: Callable[[], float] | None = None  # the invocation's remaining seconds
    # Below this much time left, the local model triages the rest of the pass: one Bedrock call per
    # mention (up to 6 s each when Bedrock is slow) could outlast the Lambda's timeout, and a pass
    # that never completes never moves its checkpoint (every run would re-triage the same posts).
    bedrock_reserve_seconds: float = 45.0
    burst_passes: int = 3  # extra passes in one invocation while mentions outrun one page a pass
    burst_interval_seconds: float = 15.0
    rate_limit_reserve: int = 30  # calls kept back from X's 300/15 min for the scheduled passes
    sleep: Callable[[float], None] = clocks.sleep
    checkpoint: Checkpoint | None = None  # as the last pass read it (the quote watch reuses it)

    def poll_until_caught_up(self, time_left: Callable[[], float] | None = None) -> HandlePollResult:
        """A pass, then more passes ``burst_interval_seconds`` apart while each one needed more than
        one page (mentions arrive faster than a page per pass) and X's window and the Lambda's time
        allow. The 800-mention reach is a count between passes, so passing more often keeps under it."""
        time_left = time_left or self.time_left
        total = last = self.poll()
        while (
            total.passes <= self.burst_passes
            and last.complete
            and last.fetched > self.max_results
            and (last.rate_limit_remaining or 0) > self.rate_limit_reserve
            and (time_left is None or time_left() > self.burst_interval_seconds + 30)
        ):
            self.sleep(self.burst_interval_seconds)
            last = self.poll()
            total = _merged(total, last)
            metrics.add_metric(name="MentionBurstPasses", unit=MetricUnit.Count, value=1)
        return total

    def _classifier_in_time(self) -> BedrockClassifier | None:
        if self.classifier is None or self.time_left is None:
            return self.classifier
        if self.time_left() > self.bedrock_reserve_seconds:
            return self.classifier
        metrics.add_metric(name="BedrockTriageSkippedForTime", unit=MetricUnit.Count, value=1)
        return None

    def poll(self) -> HandlePollResult:
        checkpoint = self.checkpoint = self.store.checkpoints.for_mention_poll(self.handle)
        result = HandlePollResult(handle=self.handle, since_id=checkpoint.since_id)
        now = self.clock()
        if checkpoint.rate_limited_until and now < checkpoint.rate_limited_until:
            logger.info(
                "rate limited, skipping until reset",
                extra={"handle": self.handle, "reset_at": checkpoint.rate_limited_until.isoformat()},
            )
            metrics.add_metric(name="PollSkippedRateLimited", unit=MetricUnit.Count, value=1)
            return result.model_copy(
                update={"complete": False, "rate_limited_until": checkpoint.rate_limited_until}
            )
        user_id = checkpoint.user_id
        if user_id is None:
            user_id = self.x.me().id
            self.store.checkpoints.set_user_id(self.handle, user_id)
            self.checkpoint = checkpoint.model_copy(update={"user_id": user_id})

        state = _Pass(first=checkpoint.since_id is None, newest_id=checkpoint.pending_newest_id)
        interrupted_until: datetime | None = None
        failure: XApiError | None = None
        token: str | None = None
        # One below since_id: the already-stored post at since_id returns last and proves the reach.
        ask_since = str(int(checkpoint.since_id) - 1) if checkpoint.since_id else None
        try:
            while True:
                page, limit = self.x.mentions_page(
                    user_id,
                    since_id=ask_since,
                    until_id=checkpoint.resume_until_id,
                    pagination_token=token,
                    max_results=self.max_results,
                )
                state.pages += 1
                state.remaining = limit.remaining
                state.newest_id = state.newest_id or page.meta.newest_id
                fresh = [t for t in page.data if t.id != checkpoint.since_id]
                state.reached_since = state.reached_since or len(fresh) < len(page.data)
                state.tweets.extend(fresh)
                state.users.update((u.id, u) for u in page.includes.users)
                state.quoted_authors.update((t.id, t.author_id) for t in page.includes.tweets)
                token = page.meta.next_token
                if not token:
                    break
                if limit.exhausted:  # the next page would be a 429; come back after the reset
                    interrupted_until = limit.reset_at or now + DEFAULT_BACKOFF
                    break
        except XRateLimited as exc:
            interrupted_until = exc.reset_at or now + DEFAULT_BACKOFF
        except XApiError as exc:
            failure = exc

        interrupted = interrupted_until is not None or failure is not None
        # An interrupted pass leaves a gap of older posts unread. A reply whose thread starts in that
        # gap waits for the pass that reads it: written now, a "same here" under a complaint not yet
        # stored would find no case to join and open one of its own, with its own ack (a reply storm
        # when X rate-limits a pass in the middle of a pile-on).
        waiting = _threads_starting_in_the_gap(state.tweets, checkpoint.since_id) if interrupted else []
        wait_ids = {t.id for t in waiting}
        written = (
            replace(state, tweets=[t for t in state.tweets if t.id not in wait_ids]) if waiting else state
        )
        # Outside a gap (resume_until_id), every post read is newer than every post stored before,
        # so a thread root read now cannot have replies stored, nor a case: no lookup needed.
        result = self._write(written, user_id, result, roots_are_new=checkpoint.resume_until_id is None)
        result.pages, result.rate_limit_remaining = state.pages, state.remaining
        if interrupted:
            if state.tweets and state.newest_id:
                # The next pass reads the gap and, above it, the replies that wait (again: billed
                # once per UTC day, and what this pass wrote comes back as duplicates).
                resume_until = str(max(int(t.id) for t in waiting) + 1) if waiting else state.tweets[-1].id
                self.store.checkpoints.save_progress(
                    self.handle,
                    expected_since=checkpoint.since_id,
                    pending_newest_id=state.newest_id,
                    resume_until_id=resume_until,
                )
            result.complete = False
            if interrupted_until is not None:
                self.store.checkpoints.set_rate_limited(self.handle, interrupted_until)
                result.rate_limited_until = interrupted_until
                metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
                logger.warning(
                    "mention pass interrupted by rate limit",
                    extra={
                        "handle": self.handle,
                        "reset_at": interrupted_until.isoformat(),
                        "stored": result.stored,
                    },
                )
            if failure is not None:
                raise failure
            return result
        if checkpoint.since_id and not state.reached_since:
            self._beyond_reach(checkpoint.since_id, state, result)
        nothing_to_record = (
            state.newest_id == checkpoint.since_id
            and checkpoint.pending_newest_id is None
            and checkpoint.resume_until_id is None
            and checkpoint.rate_limited_until is None
        )
        if state.newest_id and not nothing_to_record:  # an idle pass writes nothing
            self.store.checkpoints.complete_pass(
                self.handle, expected_since=checkpoint.since_id, since_id=state.newest_id
            )
            result.since_id = state.newest_id
        return result

    def _beyond_reach(self, since_id: str, state: _Pass, result: HandlePollResult) -> None:
        """The pass ended without the post at since_id: X's 800-deep timeline no longer holds what
        came between it and the oldest post read. Nothing can fetch them now; ops must know."""
        oldest = min((t.id for t in state.tweets), key=int, default=None)
        self.store.checkpoints.record_reach_gap(
            self.handle, since_id=since_id, oldest_read_id=oldest, at=self.clock()
        )
        result.beyond_reach = True
        metrics.add_metric(name="MentionsBeyondReach", unit=MetricUnit.Count, value=1)
        logger.error(
            "mentions lost beyond X's 800-mention reach",
            extra={"handle": self.handle, "since_id": since_id, "oldest_read_id": oldest},
        )

    def _write(
        self, state: _Pass, user_id: str, result: HandlePollResult, *, roots_are_new: bool = False
    ) -> HandlePollResult:
        ordered = sorted(state.tweets, key=lambda t: int(t.id))  # oldest first
        result.fetched = len(ordered)
        ingested_at = self.clock()
        # Each thread's cases, as far as this pass knows (its own writes and reads): a pile-on under
        # a complaint, or complaints under our own post, cost one write each, not a lookup each.
        threads: dict[str, ThreadCases] = {}
        opened: list[str | None] = []
        debug = logger.log_level <= logging.DEBUG  # the 10% of invocations sampled at DEBUG
        if ordered and self.on_pass:
            self.on_pass()
        # New mentions whose thread's owner is known are written together, up to a transaction's
        # 100 items: one call for ~30 complaints (MentionRepository.record_all). A mention whose
        # thread has a write in the batch waits for it: its owner comes from that write's outcome.
        batch: list[PlannedWrite] = []
        batch_keys: set[tuple[str, str]] = set()
        batch_threads: set[str] = set()

        def ingested(mention: Mention, outcome: RecordOutcome) -> None:
            if outcome.thread is not None:
                threads[mention.conversation_id] = outcome.thread
            if not outcome.stored:
                result.duplicates += 1
                return
            result.stored += 1
            if mention.triage.category == "unsure" and not outcome.case_open:
                # a person decides (turnaround/review.py), also in a resolved or closed case's thread
                ReviewQueue(self.store).add(mention)
            if self.on_stored:
                self.on_stored(mention)
            if outcome.case_opened:
                result.cases_opened += 1
                opened.append(outcome.case_id)
            elif outcome.case_id:
                result.attached_to_case += 1
            if debug:  # a log line costs about a DynamoDB call's CPU: per mention only when sampled
                logger.debug(
                    "mention ingested",
                    extra={
                        "handle": self.handle,
                        "tweet_id": mention.tweet_id,
                        "case_id": outcome.case_id,
                        "category": mention.triage.category,
                        "priority": mention.triage.priority,
                    },
                )

        def flush() -> None:
            for write, outcome in zip(batch, self.store.mentions.record_all(batch), strict=True):
                ingested(write.mention, outcome)
            batch.clear()
            batch_keys.clear()
            batch_threads.clear()

        # One X-Ray subsegment for the pass's writes, not one per call (observability.one_subsegment);
        # none for a pass that read nothing new
        with one_subsegment("store mentions") if ordered else nullcontext() as subsegment:
            for tweet in ordered:
                if tweet.author_id == user_id:
                    result.skipped_own += 1
                    continue
                if tweet.is_retweet:
                    result.skipped_retweets += 1
                    continue
                mention = self._mention(tweet, state, user_id, ingested_at)
                thread = mention.conversation_id
                if thread in batch_threads:
                    flush()
                known = threads.get(thread)
                if known is None and roots_are_new and thread == mention.tweet_id:
                    known = ThreadCases(thread)  # a thread that starts now has no cases yet
                complaint = mention.triage.is_complaint
                planned = (
                    None
                    if known is None
                    else self.store.mentions.plan(
                        mention, open_case=complaint, retention=self.retention, thread=known
                    )
                )
                if planned is None:  # a lookup first, or a plain put: on its own, in order
                    flush()
                    ingested(
                        mention,
                        self.store.mentions.record(
                            mention, open_case=complaint, retention=self.retention, thread=known or UNKNOWN
                        ),
                    )
                    continue
                keys = planned.keys
                if keys & batch_keys or len(batch_keys) + len(keys) > MAX_TRANSACTION_ITEMS:
                    flush()
                batch.append(planned)
                batch_keys.update(keys)
                batch_threads.add(thread)
            flush()
            if subsegment is not None:
                stored: Any = result.stored  # an int is a Number; the stubs' numeric tower says not
                subsegment.put_annotation("mentions_stored", stored)
        if result.stored or result.duplicates:
            logger.info(
                "mentions ingested",
                extra={
                    "handle": self.handle,
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "attached_to_case": result.attached_to_case,
                    "cases_opened": opened,
                },
            )
        metrics.add_metric(name="MentionsIngested", unit=MetricUnit.Count, value=result.stored)
        metrics.add_metric(name="MentionsDuplicate", unit=MetricUnit.Count, value=result.duplicates)
        metrics.add_metric(
            name="MentionsSkipped", unit=MetricUnit.Count, value=result.skipped_own + result.skipped_retweets
        )
        metrics.add_metric(name="CasesOpened", unit=MetricUnit.Count, value=result.cases_opened)
        return result

    def _mention(self, tweet: XTweet, state: _Pass, user_id: str, ingested_at: datetime) -> Mention:
        user = state.users.get(tweet.author_id)
        author = Author(
            id=tweet.author_id,
            username=user.username if user else f"id:{tweet.author_id}",
            name=user.name if user else "",
            followers=user.public_metrics.followers_count if user else 0,
            verified=user.verified if user else False,
            receives_your_dm=user.receives_your_dm if user else None,
        )
        quoted = tweet.reference("quoted")
        quotes_ours = quoted is not None and state.quoted_authors.get(quoted) == user_id
        # X's reply rule: only a mention the author typed (not the automatic reply prefix) or a
        # quote of our post summons us, so only those may be replied to.
        mentions_us = tweet.explicitly_mentions(self.handle) or quotes_ours
        conversation = tweet.conversation_id or tweet.id
        if tweet.edit_of and conversation == tweet.id:
            # The new version of a thread's first post: still the thread (and case) of its first
            # version, so an edit never opens a second case or earns a second automated reply.
            conversation = tweet.edit_of
        judged = triage(
            tweet.text,
            followers=author.followers,
            verified=author.verified,
            lang=tweet.lang,
            classifier=self._classifier_in_time(),
        )
        if (
            judged.is_complaint
            and state.first
            and tweet.created_at
            and ingested_at - tweet.created_at > FIRST_PASS_HORIZON
        ):
            hours = int(FIRST_PASS_HORIZON.total_seconds() // 3600)
            why = f"a complaint older than {hours} hours when first read (a new stack): a person decides"
            judged = judged.model_copy(
                update={"category": "unsure", "ack_bar": None, "reasons": [*judged.reasons, why]}
            )
        return Mention(
            tweet_id=tweet.id,
            handle=self.handle,
            text=tweet.text,
            author=author,
            created_at=tweet.created_at,
            conversation_id=conversation,
            edit_of=tweet.edit_of,
            in_reply_to_tweet_id=tweet.reference("replied_to"),
            under_our_post=tweet.in_reply_to_user_id == user_id
            and tweet.reference("replied_to") == conversation,
            quoted_tweet_id=quoted,
            quotes_our_post=quotes_ours,
            mentions_handle=mentions_us,
            triage=judged,
            ingested_at=ingested_at,
        )


def _merged(first: HandlePollResult, then: HandlePollResult) -> HandlePollResult:
    counted = ("fetched", "stored", "duplicates", "skipped_own", "skipped_retweets", "cases_opened")
    update = {
        name: getattr(first, name) + getattr(then, name) for name in (*counted, "attached_to_case", "pages")
    }
    return then.model_copy(
        update={
            **update,
            "passes": first.passes + then.passes,
            "beyond_reach": first.beyond_reach or then.beyond_reach,
        }
    )


def poll_monitored_handles(
    settings: PollerSettings,
    *,
    store: Repositories | None = None,
    credentials: CredentialStore | None = None,
    x_for: Callable[[str], XApi] | None = None,
    clock: Clock = utc_now,
    on_stored: Callable[[Mention], None] | None = None,
    on_pass: Callable[[], None] | None = None,
    time_left: Callable[[], float] | None = None,
    classifier: BedrockClassifier | None = None,
) -> list[HandlePollResult]:
    """Poll every monitored handle; one handle's failure does not stop the others, but is re-raised."""
    store = store or Repositories(settings.TABLE_NAME)

    def default_x(handle: str) -> XApi:
        nonlocal credentials
        credentials = credentials or CredentialStore(settings.X_CREDENTIALS_SECRET_PREFIX)
        return XApi(
            credentials.x_credentials(handle),
            base_url=settings.X_API_BASE_URL,
            timeout=settings.X_HTTP_TIMEOUT_SECONDS,
            writes_enabled=settings.X_WRITES_ENABLED,
        )

    make_x = x_for or default_x
    if classifier is None and settings.BEDROCK_TRIAGE_MODEL_ID:
        classifier = BedrockClassifier(settings.BEDROCK_TRIAGE_MODEL_ID)
    results: list[HandlePollResult] = []
    errors: list[Exception] = []
    for handle in settings.MONITORED_HANDLES:
        ingestor = MentionIngestor(
            handle=handle,
            x=make_x(handle),
            store=store,
            clock=clock,
            max_results=settings.X_MAX_RESULTS,
            retention=timedelta(days=settings.MENTION_RETENTION_DAYS),
            on_stored=on_stored,
            on_pass=on_pass,
            burst_passes=settings.MENTION_BURST_PASSES,
            burst_interval_seconds=settings.MENTION_BURST_INTERVAL_SECONDS,
            classifier=classifier,
            time_left=time_left,
        )
        try:
            results.append(ingestor.poll_until_caught_up())
            if settings.QUOTE_WATCH_DAYS:
                from turnaround.logic.ingest.quotes import QuoteIngestor  # quotes imports this module

                QuoteIngestor(
                    handle=handle,
                    x=ingestor.x,
                    store=store,
                    clock=clock,
                    watch_days=settings.QUOTE_WATCH_DAYS,
                    retention=ingestor.retention,
                    on_stored=on_stored,
                    on_pass=on_pass,
                ).poll(known=ingestor.checkpoint)
        except Exception as exc:
            logger.exception("polling failed", extra={"handle": handle, "error": type(exc).__name__})
            metrics.add_metric(name="PollFailed", unit=MetricUnit.Count, value=1)
            if isinstance(exc, XCreditsExhausted | XUsageCapped):  # alarmed: ops must top up or raise the cap
                metrics.add_metric(name="XBudgetExhausted", unit=MetricUnit.Count, value=1)
            errors.append(exc)
    if errors:
        raise errors[0]
    return results
