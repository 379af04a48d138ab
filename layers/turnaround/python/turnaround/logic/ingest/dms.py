"""DM ingest: thread the customer's DMs into their case, and send the one automated DM we may send.

X allows an automated DM only after the customer has DMed us, so the confirmation goes out from
here, when their first DM to an offline case arrives; never from the workflow on its own.

Reading: ``GET /2/dm_events`` has no since_id and X bills every event it returns ($0.010, once per
UTC day), for the 30 days it keeps them. Re-reading a page of 100 every minute would bill each DM
about 31 times. So a pass reads newest-first in small pages that grow while every event is new
(1, 4, 20, 100) and stops at the first event it already has: each new event is billed once, plus
the known events on the page that stops the pass (one on a quiet day: $0.01 a day per handle).
A pass keeps ``DM_RATE_LIMIT_RESERVE`` of X's 15 calls/15 min back, and a 429 parks that handle
until X's reset without touching the other handles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.secrets import CredentialStore
from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.dal.repositories import Repositories
from turnaround.dal.review_queue import ReviewQueue
from turnaround.exceptions import XApiError, XCreditsExhausted, XRateLimited, XUsageCapped
from turnaround.logic.effects import Effects, find_our_dm, x_refused
from turnaround.logic.workflow.voice import case_ref, first_name
from turnaround.models.case import Case, CaseStatus, StoredDm
from turnaround.models.playbook import Playbook, load_playbook
from turnaround.models.review import WaitingDm
from turnaround.models.x import XDmEvent
from turnaround.observability import logger, metrics
from turnaround.settings import DmPollerSettings

PAGE_SIZES = (1, 4, 20, 100)  # grows only while every event on the page is new
DM_RATE_LIMIT_RESERVE = 2  # of X's 15 calls per 15 minutes, left for the next scheduled pass
DEFAULT_BACKOFF = timedelta(minutes=15)


@dataclass
class DmIngestor:
    handle: str
    x: XApi
    store: Repositories
    playbook: Playbook
    clock: Callable[[], datetime] = utc_now

    @property
    def effects(self) -> Effects:
        return Effects(self.store, self.clock)

    def poll(self) -> dict[str, int]:
        checkpoint = self.store.checkpoints.get(self.handle)
        now = self.clock()
        if checkpoint.dm_rate_limited_until and now < checkpoint.dm_rate_limited_until:
            metrics.add_metric(name="DmPollSkippedRateLimited", unit=MetricUnit.Count, value=1)
            return {"received": 0, "threaded": 0, "confirmations": 0, "refused": 0, "pages": 0}
        user_id = checkpoint.user_id or self.x.me().id
        if checkpoint.user_id is None:
            self.store.checkpoints.set_user_id(self.handle, user_id)
        known = int(checkpoint.dm_newest_id) if checkpoint.dm_newest_id else None
        events, pages, complete = self._new_events(known)
        if checkpoint.dm_rate_limited_until:
            self.store.checkpoints.set_dm_rate_limited(self.handle, None)
        counts = {"received": 0, "threaded": 0, "confirmations": 0, "refused": 0, "pages": pages}
        self._send_pending_confirms(checkpoint.dm_confirms_pending, user_id, counts)
        for event in events:
            if event.sender_id == user_id:
                continue  # our own DMs are recorded when we send them
            counts["received"] += 1
            # An answer to our follow-up DM belongs to the case that asked it (the rep sees it there).
            case = self.store.cases.find_open_for_customer(
                event.sender_id
            ) or self.store.cases.find_awaiting_follow_up(event.sender_id)
            if not self.store.dms.record(
                StoredDm(
                    event_id=event.id,
                    case_id=case.case_id if case else None,
                    direction="customer",
                    text=event.text,
                    sender_id=event.sender_id,
                    created_at=event.created_at,
                )
            ):
                # Threaded by an earlier pass that then failed: its confirmation may not have gone out.
                if case and self._may_confirm(case, event.text):
                    outcome = self._confirm_when_assigned(case, event.sender_id, user_id)
                    counts[outcome] += outcome != "threaded"
                continue
            if self.playbook.is_opt_out(event.text):  # every case of theirs, with or without this one
                opted_out = self.store.cases.customer_opted_out(event.sender_id, at=event.created_at)
                metrics.add_metric(name="OptOuts", unit=MetricUnit.Count, value=len(opted_out))
            if case is None:  # no case to take it: the next unsure digest shows it to a person
                ReviewQueue(self.store).add_dm(
                    self.handle,
                    WaitingDm(
                        handle=self.handle,
                        review_key=ReviewQueue.key(event.id),
                        event_id=event.id,
                        sender_id=event.sender_id,
                        text=event.text,
                        created_at=event.created_at,
                        queued_at=self.clock(),
                    ),
                )
                continue
            counts["threaded"] += 1
            self.store.cases.dm_opened(case.case_id, at=self.clock())
            if self._may_confirm(case, event.text):
                counts[self._confirm_when_assigned(case, event.sender_id, user_id)] += 1
        if events and complete:
            self.store.checkpoints.save_dm_checkpoint(self.handle, events[-1].id)
        metrics.add_metric(name="DmsReceived", unit=MetricUnit.Count, value=counts["received"])
        return counts

    def _new_events(self, known: int | None) -> tuple[list[XDmEvent], int, bool]:
        """Events newer than ``known``, oldest first; the pages read; and whether the pass reached a
        known event (only then may the checkpoint move: the rest would be skipped for ever). Until the
        handle has a first event, a pass reads one page of 100 (X keeps 30 days) and starts there."""
        fresh: list[XDmEvent] = []
        token: str | None = None
        sizes = PAGE_SIZES[-1:] if known is None else PAGE_SIZES + PAGE_SIZES[-1:] * 8
        for pages, size in enumerate(sizes, start=1):
            try:
                page, limit = self.x.dm_events_page(max_results=size, pagination_token=token)
            except XRateLimited as exc:
                self.store.checkpoints.set_dm_rate_limited(
                    self.handle, exc.reset_at or self.clock() + DEFAULT_BACKOFF
                )
                metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
                logger.warning("DM read rate limited", extra={"handle": self.handle})
                return sorted(fresh, key=lambda e: int(e.id)), pages, False
            new = [e for e in page.data if known is None or int(e.id) > known]
            fresh += new
            token = page.meta.next_token
            if known is None or len(new) < len(page.data) or not token:
                return sorted(fresh, key=lambda e: int(e.id)), pages, True
            if limit.remaining is not None and limit.remaining <= DM_RATE_LIMIT_RESERVE:
                break  # the rest next pass: the checkpoint stays, so nothing is skipped
        metrics.add_metric(name="DmPassIncomplete", unit=MetricUnit.Count, value=1)
        logger.warning("DM pass stopped before a known event", extra={"handle": self.handle})
        return sorted(fresh, key=lambda e: int(e.id)), pages, False

    def _may_confirm(self, case: Case, text: str) -> bool:
        """The confirmation DM goes to an open offline case whose customer has not said stop."""
        return (
            case.status == CaseStatus.OPEN
            and case.route == "offline"
            and not case.opted_out
            and not self.playbook.is_opt_out(text)
        )

    def _confirm_when_assigned(self, case: Case, customer_id: str, brand_id: str) -> str:
        """The confirmation names the case's rep: before the workflow has given it one, it waits
        on the checkpoint for the first pass after (``_send_pending_confirms``)."""
        if case.assignee_email is None:
            self.store.checkpoints.dm_confirm_pending(self.handle, case.case_id, pending=True)
            return "threaded"
        return self._confirm(case, customer_id, brand_id)

    def _send_pending_confirms(self, pending: list[str], brand_id: str, counts: dict[str, int]) -> None:
        for case_id in pending:
            case = self.store.cases.get(case_id)
            if case is not None and self._may_confirm(case, ""):
                if case.assignee_email is None:
                    continue  # still no rep: the next pass looks again
                outcome = self._confirm(case, case.customer_id, brand_id)
                counts[outcome] += outcome != "threaded"
            self.store.checkpoints.dm_confirm_pending(self.handle, case_id, pending=False)

    def _confirm(self, case: Case, customer_id: str, brand_id: str) -> str:
        """The one automated DM per case, through the effects module: a 429 or 5xx releases its
        claim and the next pass (which re-reads the event) sends it; after a crash or a timeout the
        retry looks for it on X and never sends it twice."""
        case_id = case.case_id
        key = f"{case_id}#dm_confirm"
        mention = self.store.mentions.get(case.root_tweet_id)
        lang = mention.triage.lang if mention else None
        if not self.playbook.speaks(lang):  # the rep writes to them personally; no canned DM
            self.effects.refused(key, "no templates")
            return "threaded"
        rep = self.playbook.rep_by_email(case.assignee_email or "") or self.playbook.supervisor
        text = self.playbook.render(
            "dm_confirm",
            key=case_id,
            lang=lang,
            first_name=first_name(mention.author if mention else None),
            rep_name=rep.name,
            case_ref=case_ref(case_id),
        )
        try:
            once = self.effects.at_most_once(
                key,
                lambda: {"result_id": self.x.send_dm(customer_id, text)},
                find_earlier=find_our_dm(self.x, brand_id, text),
            )
        except XApiError as exc:
            if not x_refused(exc) or isinstance(exc, XRateLimited | XCreditsExhausted | XUsageCapped):
                raise  # nothing decided yet: the next pass tries again (billing stops are alarmed)
            # X refused it for good (their DMs closed to us, a block, the account gone): recorded as
            # refused, never left claimed, which the next pass would read as a DM in doubt and page
            # ops. Never fail the case: the rep's email says to use email or phone instead.
            self.store.cases.dm_refused(case_id, reason=str(exc))
            self.effects.refused(key, "refused")
            logger.info("automated DM refused", extra={"case_id": case_id})
            return "refused"
        if once.recorded.result_id:  # again after a crash before it was stored (the write is idempotent)
            self.store.dms.record(
                StoredDm(
                    event_id=once.recorded.result_id,
                    case_id=case_id,
                    direction="brand",
                    text=text,
                    created_at=self.clock(),
                )
            )
        # Sent (or attempted) before: exactly one automated DM per case.
        return "confirmations" if once.made_now else "threaded"


def poll_dm_handles(
    settings: DmPollerSettings,
    *,
    store: Repositories | None = None,
    credentials: CredentialStore | None = None,
    playbook: Playbook | None = None,
    x_for: Callable[[str], XApi] | None = None,
) -> dict[str, dict[str, int]]:
    """Every monitored handle; one handle's failure does not stop the others, but is re-raised."""
    store = store or Repositories(settings.TABLE_NAME)
    playbook = playbook or load_playbook(settings.PLAYBOOK_PATH)

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
    results: dict[str, dict[str, int]] = {}
    errors: list[Exception] = []
    for handle in settings.MONITORED_HANDLES:
        try:
            results[handle] = DmIngestor(
                handle=handle, x=make_x(handle), store=store, playbook=playbook
            ).poll()
        except Exception as exc:
            logger.exception("DM polling failed", extra={"handle": handle, "error": type(exc).__name__})
            metrics.add_metric(name="DmPollFailed", unit=MetricUnit.Count, value=1)
            if isinstance(exc, XCreditsExhausted | XUsageCapped):
                metrics.add_metric(name="XBudgetExhausted", unit=MetricUnit.Count, value=1)
            errors.append(exc)
    if errors:
        raise errors[0]
    return results
