"""Quote-posts of our recent posts: a quote summons us like a mention, but need not type @handle, so
X's mentions timeline may not carry it.

Cheapest faithful read: one call for our newest original posts with their ``quote_count`` (Owned
Reads, $0.001 a post, once per UTC day), then ``GET /2/tweets/:id/quote_tweets`` only for a post
whose count went up (each quote returned is a $0.005 read), storing the quotes newer than the
newest one already seen. A post is watched for ``QUOTE_WATCH_DAYS``; the check runs at most every
``every`` (5 minutes: a quote waits that long at most) and makes at most ``max_calls`` quote reads
(X allows 75 per 15 minutes), the rest next time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.dal.repositories import Repositories
from turnaround.dal.review_queue import ReviewQueue
from turnaround.exceptions import XRateLimited
from turnaround.logic.ingest.mentions import MentionIngestor, _Pass
from turnaround.models.mention import Checkpoint, Mention, QuoteWatch, WatchedPost
from turnaround.observability import logger, metrics


@dataclass
class QuoteIngestor:
    handle: str
    x: XApi
    store: Repositories
    clock: Callable[[], datetime] = utc_now
    watch_days: int = 7
    max_calls: int = 4
    retention: timedelta = timedelta(days=180)
    on_stored: Callable[[Mention], None] | None = None
    on_pass: Callable[[], None] | None = None  # before quotes are written (the listener's per-pass reads)
    every: timedelta = timedelta(minutes=5)

    def poll(self, *, known: Checkpoint | None = None) -> int:
        """Store new quotes of our recent posts; returns how many were stored. ``known`` is the
        checkpoint the mention poll just read (with when the watch last ran): while the check is
        not due, nothing more is read."""
        now = self.clock()
        if known and known.quotes_checked_at is not None and now - known.quotes_checked_at < self.every:
            return 0
        watch = self.store.checkpoints.get_quote_watch(self.handle)
        if watch.checked_at is not None and now - watch.checked_at < self.every:
            return 0
        user_id = known.user_id if known else None
        user_id = user_id or self.store.checkpoints.get(self.handle).user_id or self.x.me().id
        page, _ = self.x.own_posts_page(user_id)
        horizon = now - timedelta(days=self.watch_days)
        recent = {p.id: p for p in page.data if p.created_at is None or p.created_at >= horizon}
        seen = {post_id: watch.posts.get(post_id, WatchedPost()) for post_id in recent}
        stored = calls = 0
        for post_id, post in recent.items():
            count = post.public_metrics.quote_count if post.public_metrics else 0
            if count <= seen[post_id].quotes or calls >= self.max_calls:
                continue
            calls += 1
            try:
                quotes, _ = self.x.quotes_page(post_id)
            except XRateLimited:
                logger.warning("quote reads rate limited; next pass", extra={"handle": self.handle})
                break
            newest = seen[post_id].newest
            fresh = [q for q in quotes.data if newest is None or int(q.id) > int(newest)]
            state = _Pass(
                tweets=fresh,
                users={u.id: u for u in quotes.includes.users},
                quoted_authors={post_id: user_id},
            )
            stored += self._record(state, user_id)
            seen[post_id] = WatchedPost(
                quotes=count, newest=max((q.id for q in quotes.data), key=int, default=newest)
            )
        self.store.checkpoints.save_quote_watch(self.handle, QuoteWatch(posts=seen, checked_at=now))
        metrics.add_metric(name="QuotesIngested", unit=MetricUnit.Count, value=stored)
        return stored

    def _record(self, state: _Pass, user_id: str) -> int:
        # The mention ingestor's own mapping and triage, so a quote is stored exactly like a mention.
        helper = MentionIngestor(handle=self.handle, x=self.x, store=self.store, clock=self.clock)
        stored = 0
        if state.tweets and self.on_pass:
            self.on_pass()
        for tweet in sorted(state.tweets, key=lambda t: int(t.id)):
            if tweet.author_id == user_id:
                continue
            mention = helper._mention(tweet, state, user_id, self.clock())
            outcome = self.store.mentions.record(
                mention, open_case=mention.triage.is_complaint, retention=self.retention
            )
            if outcome.stored:
                stored += 1
                if mention.triage.category == "unsure" and not outcome.case_open:
                    ReviewQueue(self.store).add(mention)  # a person decides, as for a mention
                if self.on_stored:
                    self.on_stored(mention)
                logger.info("quote ingested", extra={"handle": self.handle, "tweet_id": tweet.id})
        return stored
