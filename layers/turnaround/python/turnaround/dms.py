"""DM ingest: thread the customer's DMs into their case, and send the one automated DM we may send.

X allows an automated DM only after the customer has DMed us, so the confirmation goes out from
here, when their first DM to an offline case arrives; never from the workflow on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.store import MentionStore
from turnaround.adapters.x_api import XApi
from turnaround.clock import utc_now
from turnaround.exceptions import XDirectMessageRefused
from turnaround.observability import logger, metrics
from turnaround.playbook import Playbook
from turnaround.workflow import case_ref, first_name


@dataclass
class DmIngestor:
    handle: str
    x: XApi
    store: MentionStore
    playbook: Playbook
    clock: Callable[[], datetime] = utc_now

    def poll(self) -> dict[str, int]:
        checkpoint = self.store.get_checkpoint(self.handle)
        user_id = checkpoint.user_id or self.x.me().id
        if checkpoint.user_id is None:
            self.store.set_user_id(self.handle, user_id)
        newest = int(checkpoint.dm_newest_id or 0)
        events = sorted((e for e in self.x.dm_events() if int(e.id) > newest), key=lambda e: int(e.id))
        counts = {"received": 0, "threaded": 0, "confirmations": 0, "refused": 0}
        for event in events:
            if event.sender_id == user_id:
                continue  # our own DMs are recorded when we send them
            counts["received"] += 1
            case = self.store.find_open_case_for_customer(event.sender_id)
            case_id = str(case["case_id"]) if case else None
            if not self.store.record_dm(
                event.id,
                case_id=case_id,
                direction="customer",
                text=event.text,
                sender_id=event.sender_id,
                created_at=event.created_at,
            ):
                continue  # already threaded by an earlier poll
            if case is None:
                continue
            counts["threaded"] += 1
            self.store.update_case(str(case["case_id"]), dm_open=True, last_dm_at=self.clock().isoformat())
            if self.playbook.is_opt_out(event.text):
                self.store.update_case(str(case["case_id"]), opted_out=True)
                continue
            if case.get("route") == "offline" and not case.get("opted_out"):
                counts[self._confirm(case, event.sender_id)] += 1
        if events:
            self.store.save_dm_checkpoint(self.handle, events[-1].id)
        metrics.add_metric(name="DmsReceived", unit=MetricUnit.Count, value=counts["received"])
        return counts

    def _confirm(self, case: dict[str, object], customer_id: str) -> str:
        case_id = str(case["case_id"])
        if self.store.outbox_claim(f"{case_id}#dm_confirm", claimed_at=self.clock().isoformat()):
            return "threaded"  # sent (or attempted) before: exactly one automated DM per case
        mention = self.store.get_mention(str(case["root_tweet_id"])) or {"author": {}}
        lang = (mention.get("triage") or {}).get("lang")
        if not self.playbook.speaks(lang):  # the rep writes to them personally; no canned DM
            self.store.outbox_complete(f"{case_id}#dm_confirm", outcome="no templates")
            return "threaded"
        rep = self.playbook.rep_by_email(str(case.get("assignee_email", ""))) or self.playbook.roster[0]
        text = self.playbook.render(
            "dm_confirm",
            key=case_id,
            lang=lang,
            first_name=first_name(mention["author"]),
            rep_name=rep.name,
            case_ref=case_ref(case_id),
        )
        try:
            event_id = self.x.send_dm(customer_id, text)
        except XDirectMessageRefused as exc:
            # Never fail the case: the rep's email says to use email or phone instead.
            self.store.update_case(case_id, dm_refused=True, dm_refused_reason=str(exc))
            self.store.outbox_complete(f"{case_id}#dm_confirm", outcome="refused")
            logger.info("automated DM refused", extra={"case_id": case_id})
            return "refused"
        self.store.outbox_complete(f"{case_id}#dm_confirm", result_id=event_id)
        self.store.record_dm(
            event_id, case_id=case_id, direction="brand", text=text, sender_id=None, created_at=self.clock()
        )
        return "confirmations"
