"""Incidents and what storm mode counts (playbook ``incidents``):

TOPIC#<handle>#<topic>    / WINDOW#<start>  the cases counted on a topic in one window (a set; TTL)
INCIDENT#<handle>#<topic> / CURRENT         the topic's incident (one at a time: conditional put)
INCIDENT#<handle>#THREAD_TOPICS / TOPICS    topics of incidents under our own posts, while they last
INCIDENT#<incident_id>    / CASE#<case_id>  a case of the incident, for the supervisor's digest
REP#<email>               / LOAD            the rep's open cases (a set of case ids)
POSTS#<handle>            / QUEUE           the ack queue: the last slot reserved in each lane

Counts are sets of case ids, not counters: a retried step (a crash between counting and the next
write, Step Functions' retry, a duplicate invocation) adds the same id again and counts nothing
twice, and a case that moves or closes is taken out of exactly the set that holds it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from turnaround.dal.table import Repository, condition_failed, epoch, storage_errors, to_item
from turnaround.exceptions import StorageError
from turnaround.models.incident import Incident, IncidentCase

# Concurrent acks each take the next slot; a try lost to another retries with the lane read anew,
# after a jittered pause that doubles each time (a storm's acks start together: spread them out).
RESERVATION_TRIES = 30
LOST_TRY_PAUSE_SECONDS = 0.02
MAX_LOST_TRY_PAUSE_SECONDS = 1.0
WINDOW_MS = 15 * 60 * 1000  # X's post window


@dataclass(frozen=True)
class PostLane:
    """A lane of the ack queue: first-come slots, at most ``per_window`` of them in any 15 minutes
    (a slot is never earlier than the last, nor than 15 minutes after the ``per_window``-th last)."""

    name: str  # the queue item keeps the lane's last slots (epoch ms) and how many it ever gave
    per_window: int

    def next_slot(self, slots: list[int], now_ms: int) -> int:
        earliest = max([now_ms, *slots[-1:]])
        if len(slots) >= self.per_window:
            earliest = max(earliest, slots[-self.per_window] + WINDOW_MS)
        return earliest


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_epoch_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _thread_topics(handle: str) -> dict[str, str]:
    return {"pk": f"INCIDENT#{handle}#THREAD_TOPICS", "sk": "TOPICS"}


def _current(handle: str, topic: str) -> dict[str, str]:
    return {"pk": f"INCIDENT#{handle}#{topic}", "sk": "CURRENT"}


class IncidentRepository(Repository):
    def count_complaint(
        self, handle: str, topic: str, window_start: datetime, *, case_id: str, keep_until: datetime
    ) -> int:
        """Count the case's complaint in the topic's window (once however often this is called for
        it); returns the window's count so far."""
        with storage_errors(f"count a {topic} complaint"):
            result = self.table.update_item(
                Key={"pk": f"TOPIC#{handle}#{topic}", "sk": f"WINDOW#{window_start.isoformat()}"},
                UpdateExpression="ADD case_ids :case SET expires_at = :ttl",
                ExpressionAttributeValues={":case": {case_id}, ":ttl": epoch(keep_until)},
                ReturnValues="ALL_NEW",  # (UPDATED_NEW may leave out a set the retry did not change)
            )
        return len(result["Attributes"]["case_ids"])

    def window_count(self, handle: str, topic: str, window_start: datetime) -> int:
        """How many complaints the topic's window counted (0 if none, or its item has expired)."""
        item = self._get(f"TOPIC#{handle}#{topic}", f"WINDOW#{window_start.isoformat()}")
        return len(item.get("case_ids", ())) if item else 0

    def current(self, handle: str, topic: str) -> Incident | None:
        item = self._get(f"INCIDENT#{handle}#{topic}", "CURRENT")
        return Incident.model_validate(item) if item else None

    def join(self, handle: str, topic: str, *, at: datetime, active_since: datetime) -> Incident | None:
        """Join the topic's incident if one is active (a case joined it since ``active_since``)."""
        try:
            result = self.table.update_item(
                Key=_current(handle, topic),
                UpdateExpression="SET last_case_at = :at",
                ConditionExpression=(
                    "attribute_exists(pk) AND last_case_at >= :since AND attribute_not_exists(ended_at)"
                ),
                ExpressionAttributeValues={":at": at.isoformat(), ":since": active_since.isoformat()},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise StorageError(f"could not join the {topic} incident: {exc}") from exc
        return Incident.model_validate(result["Attributes"])

    def open(self, incident: Incident, *, active_since: datetime) -> bool:
        """Open ``incident`` unless the topic has an active one (then join that); True if opened.
        A quiet incident the schedule has not ended yet is carried on the new one (``replaces``) so
        its closing summary still goes out; the put is conditional on the item read, so two
        workflows opening at once cannot both win or drop the old one."""
        before = self.current(incident.handle, incident.topic)
        if before is not None and before.ended_at is None and before.last_case_at >= active_since:
            return False
        # Not summarised yet: quiet but not ended by the schedule, or ended from a link and the
        # schedule has not sent its summary.
        unsummarised = before is not None and (before.ended_at is None or before.summary_due)
        replaces = before.model_copy(update={"replaces": None}) if before and unsummarised else None
        opened = incident.model_copy(update={"replaces": replaces})
        item = to_item({**_current(incident.handle, incident.topic), **opened.model_dump(mode="json")})
        try:
            if before is None:
                self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                self.table.put_item(
                    Item=item,
                    ConditionExpression=(
                        "incident_id = :before AND (last_case_at < :since OR attribute_exists(ended_at))"
                    ),
                    ExpressionAttributeValues={
                        ":before": before.incident_id,
                        ":since": active_since.isoformat(),
                    },
                )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise StorageError(f"could not open the {incident.topic} incident: {exc}") from exc
        return True

    def summary_sent(self, incident: Incident, owed_by: Literal["replaces", "summary_due"]) -> None:
        """A closing summary the topic's incident kept owed went out: ``replaces`` (the incident it
        took over before the schedule ended it) or ``summary_due`` (it was ended from a digest's
        link). Cleared if the topic's incident is still ``incident``: one that replaced it in turn
        carries what is left."""
        with storage_errors(f"clear {owed_by} of {incident.incident_id}"):
            try:
                self.table.update_item(
                    Key=_current(incident.handle, incident.topic),
                    UpdateExpression=f"REMOVE {owed_by}",
                    ConditionExpression="incident_id = :id",
                    ExpressionAttributeValues={":id": incident.incident_id},
                )
            except ClientError as exc:
                if not condition_failed(exc):
                    raise

    def ended(self, incident: Incident, *, at: datetime, quiet_since: datetime) -> bool:
        """Mark the topic's incident ended, if it is still this one, still quiet (no case since
        ``quiet_since``) and not ended yet; True if this call ended it."""
        try:
            self.table.update_item(
                Key=_current(incident.handle, incident.topic),
                UpdateExpression="SET ended_at = :at",
                ConditionExpression=(
                    "incident_id = :id AND last_case_at < :since AND attribute_not_exists(ended_at)"
                ),
                ExpressionAttributeValues={
                    ":at": at.isoformat(),
                    ":id": incident.incident_id,
                    ":since": quiet_since.isoformat(),
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise StorageError(f"could not end {incident.incident_id}: {exc}") from exc
        return True

    def end_now(self, incident: Incident, *, at: datetime, by: str) -> bool:
        """The supervisor ended the topic's incident from a digest's link: mark it ended now, if it is
        still this one and not ended yet, with its closing summary due (the schedule sends it, then
        ``summary_sent``). True if this call ended it."""
        with storage_errors(f"end {incident.incident_id}"):
            try:
                self.table.update_item(
                    Key=_current(incident.handle, incident.topic),
                    UpdateExpression="SET ended_at = :at, ended_by = :by, summary_due = :due",
                    ConditionExpression="incident_id = :id AND attribute_not_exists(ended_at)",
                    ExpressionAttributeValues={
                        ":at": at.isoformat(),
                        ":by": by,
                        ":due": True,
                        ":id": incident.incident_id,
                    },
                )
            except ClientError as exc:
                if condition_failed(exc):
                    return False
                raise
        return True

    # Topics that are not the playbook's (complaints under one of our posts: ``replies-to-<id>``)
    # are listed here while their incident lasts, so the schedule tends them as it tends the others.

    def note_thread_topic(self, handle: str, topic: str) -> None:
        self._change_thread_topics(handle, "ADD", topic, f"list the {topic} incident")

    def thread_topics(self, handle: str) -> list[str]:
        item = self._get(**_thread_topics(handle))
        return sorted(str(topic) for topic in (item or {}).get("topics", ()))

    def forget_thread_topic(self, handle: str, topic: str) -> None:
        self._change_thread_topics(handle, "DELETE", topic, f"unlist the {topic} incident")

    def _change_thread_topics(self, handle: str, action: str, topic: str, what: str) -> None:
        with storage_errors(what):  # ADD/DELETE of a string set: concurrent callers never lose one
            self.table.update_item(
                Key=_thread_topics(handle),
                UpdateExpression=f"{action} topics :t",
                ExpressionAttributeValues={":t": {topic}},
            )

    def add_case(self, incident_id: str, case: IncidentCase, *, expires_at: int) -> None:
        item = {"pk": f"INCIDENT#{incident_id}", "sk": f"CASE#{case.case_id}", "expires_at": expires_at}
        with storage_errors(f"add {case.case_id} to {incident_id}"):
            self.table.put_item(Item=to_item({**item, **case.model_dump(mode="json")}))

    def cases(self, incident_id: str) -> list[IncidentCase]:
        items = self._query_all(
            f"the cases of {incident_id}",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :case)",
            ExpressionAttributeValues={":pk": f"INCIDENT#{incident_id}", ":case": "CASE#"},
        )
        return [IncidentCase.model_validate(item) for item in items]

    # --- our share of X's post window: the ack queue ---------------------------------------------

    def reserve_post_slot(
        self,
        handle: str,
        case_id: str,
        *,
        now: datetime,
        lanes: list[PostLane],
        latest: datetime,
    ) -> datetime | None:
        """The time the case's ack may be posted: its reservation if it has one, else the earliest
        next slot of ``lanes`` (the first on a tie), reserved on the case in the one transaction
        that moves the lane on, so a retry or a crash never reserves twice and never loses the
        slot. None if the earliest is after ``latest`` (then nothing is reserved). One transaction
        per try; a try loses only to a concurrent reservation, and the next reads the lane anew."""
        queue_key = {"pk": f"POSTS#{handle}", "sk": "QUEUE"}
        for attempt in range(RESERVATION_TRIES):
            if attempt:
                pause = min(MAX_LOST_TRY_PAUSE_SECONDS, LOST_TRY_PAUSE_SECONDS * 2**attempt)
                time.sleep(random.uniform(0, pause))  # real time: the contention is real
            queue = self._get(queue_key["pk"], queue_key["sk"]) or {}
            offers = []
            for lane in lanes:
                slots = [int(ms) for ms in queue.get(f"{lane.name}_slots", [])]
                offers.append((lane.next_slot(slots, epoch_ms(now)), lane, slots))
            slot_ms, lane, slots = min(offers, key=lambda offer: offer[0])
            if slot_ms > epoch_ms(latest):
                return None
            taken = queue.get(f"{lane.name}_taken")
            slot = from_epoch_ms(slot_ms)
            outcome = self._reserve(queue_key, lane, [*slots, slot_ms], taken, case_id, slot)
            if outcome == "reserved":
                return slot
            if outcome == "case has one":
                return self._reserved(case_id)  # an earlier attempt reserved it
        raise StorageError(f"could not reserve a post slot for {case_id}: {RESERVATION_TRIES} tries lost")

    def _reserve(
        self,
        queue_key: dict[str, str],
        lane: PostLane,
        slots: list[int],
        taken: Any,
        case_id: str,
        slot: datetime,
    ) -> str:
        """Move the lane on (if nobody else did since we read it) and put the slot on the case (if
        it has none): 'reserved', 'lane moved' or 'case has one'."""
        values: dict[str, Any] = {":slots": slots[-lane.per_window :], ":one": 1}
        if taken is not None:
            values[":taken"] = taken
        try:
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": queue_key,
                            "UpdateExpression": f"SET {lane.name}_slots = :slots ADD {lane.name}_taken :one",
                            "ConditionExpression": (
                                f"attribute_not_exists({lane.name}_taken)"
                                if taken is None
                                else f"{lane.name}_taken = :taken"
                            ),
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"pk": f"CASE#{case_id}", "sk": "CASE"},
                            "UpdateExpression": "SET ack_post_at = :at",
                            "ConditionExpression": (
                                "attribute_exists(pk) AND attribute_not_exists(ack_post_at)"
                            ),
                            "ExpressionAttributeValues": {":at": slot.isoformat()},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise StorageError(f"could not reserve a post slot for {case_id}: {exc}") from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return "case has one"
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "lane moved"
            raise StorageError(f"could not reserve a post slot for {case_id}: {reasons or exc}") from exc
        return "reserved"

    def _reserved(self, case_id: str) -> datetime:
        item = self._get(f"CASE#{case_id}", "CASE")
        if item is None or "ack_post_at" not in item:
            raise StorageError(f"no case {case_id} to reserve a post slot for")
        return datetime.fromisoformat(str(item["ack_post_at"]))

    # --- rep load ----------------------------------------------------------------------------------

    def rep_loads(self, emails: list[str]) -> dict[str, int]:
        """Open cases per rep (0 for a rep never assigned one), in one read."""
        if not emails:
            return {}
        keys: list[dict[str, Any]] = [{"pk": f"REP#{email}", "sk": "LOAD"} for email in dict.fromkeys(emails)]
        with storage_errors("read the reps' loads"):
            response = self.table.meta.client.batch_get_item(
                RequestItems={self.table_name: {"Keys": keys, "ConsistentRead": True}}
            )
            items = response["Responses"].get(self.table_name, [])
            # Unprocessed keys (throttling) read as no load: the choice is a spread, not a promise.
        loads = dict.fromkeys(emails, 0)
        for item in items:
            loads[str(item["pk"]).removeprefix("REP#")] = len(item.get("open_case_ids") or ())
        return loads

    def take_case(self, email: str, case_id: str) -> None:
        """The case counts towards the rep's load (again: no change)."""
        with storage_errors(f"count {case_id} for {email}"):
            self.table.update_item(**_load_update(email, case_id, "ADD"))

    def release_case(self, emails: list[str], case_id: str) -> None:
        """The case no longer counts towards any of these reps' loads (it closed)."""
        for email in dict.fromkeys(emails):
            with storage_errors(f"uncount {case_id} for {email}"):
                self.table.update_item(**_load_update(email, case_id, "DELETE"))

    def move_case(self, case_id: str, holder: str, former: list[str]) -> None:
        """A reassigned case counts for its rep now (``holder``) and for none of its former reps,
        in one transaction (repeatable: the same call again changes nothing)."""
        moves = [_load_update(holder, case_id, "ADD")] + [
            _load_update(email, case_id, "DELETE") for email in dict.fromkeys(former) if email != holder
        ]
        with storage_errors(f"move {case_id} to {holder}'s load"):
            self.table.meta.client.transact_write_items(
                TransactItems=[{"Update": {"TableName": self.table_name, **move}} for move in moves]
            )


def _load_update(email: str, case_id: str, action: str) -> dict[str, Any]:
    return {
        "Key": {"pk": f"REP#{email}", "sk": "LOAD"},
        "UpdateExpression": f"{action} open_case_ids :case",
        "ExpressionAttributeValues": {":case": {case_id}},
    }


def window_start(at: datetime, minutes: int) -> datetime:
    """The start of the fixed window of ``minutes`` that ``at`` falls in."""
    size = minutes * 60
    return datetime.fromtimestamp(epoch(at) // size * size, tz=at.tzinfo)


def keep_counts_until(at: datetime, minutes: int) -> datetime:
    return at + timedelta(minutes=2 * minutes)
