"""Cases: ``CASE#<case_id>`` items and the ``CONVERSATION#<conv_id>`` pointers that give each customer
one case in a thread. The one place that opens a case (ingest and the unsure queue both call ``open``).

A thread's pointers (``CONVERSATION#<conv_id> / CASE#<customer_id>``): each customer who complains in
it has their own case there, so complaints from different customers under our own post (an outage
notice, a promotion) each reach a person and get their own acknowledgement. The case opened by the
post that started the thread is flagged ``starts_thread``: other people's posts under a customer's
complaint (a pile-on: "same here") join that case, not a case each. Pointers written before
customers had their own (``CONVERSATION#<conv_id> / CASE``) still name their thread's starter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from turnaround.dal.table import Repository, condition_failed, iso, storage_errors, to_item, to_wire
from turnaround.exceptions import StorageError
from turnaround.models.case import AckError, Case, CaseStatus, FollowUpPost, Reassignment, Route

Transacted = Literal["ok", "duplicate", "race"]
# AWAITING_FOLLOW_UP / <customer_id>#<case_id>: one marker per case in FOLLOW_UP, so the poller can
# read who awaits a follow-up in one query (GSI1 is keyed by customer, not by status).
AWAITING_FOLLOW_UP = "AWAITING_FOLLOW_UP"


def _awaiting_key(case: Case) -> dict[str, str]:
    return {"pk": AWAITING_FOLLOW_UP, "sk": f"{case.customer_id}#{case.case_id}"}


def _key(case_id: str) -> tuple[str, str]:
    return f"CASE#{case_id}", "CASE"


def _posted_order(case_id: str) -> int:
    tweet_id = case_id.rpartition("-")[2]
    return int(tweet_id) if tweet_id.isdigit() else -1


LEGACY_POINTER = "CASE"  # one pointer per thread, before customers had their own


def pointer_key(conversation_id: str, customer_id: str) -> dict[str, str]:
    return {"pk": f"CONVERSATION#{conversation_id}", "sk": f"CASE#{customer_id}"}


@dataclass(frozen=True)
class ThreadCases:
    """The cases of one thread, as its pointers name them (what ingest knows of a thread)."""

    conversation_id: str
    cases: Mapping[str, str] = field(default_factory=dict)  # customer id -> their case in the thread
    starter: str | None = None  # the case its first post opened: a pile-on under it joins it

    def owner_for(self, customer_id: str) -> str | None:
        """The case a post by ``customer_id`` joins: their own in this thread, else the starter's."""
        return self.cases.get(customer_id) or self.starter

    def with_case(self, customer_id: str, case_id: str, *, starts_thread: bool) -> ThreadCases:
        return replace(
            self,
            cases={**self.cases, customer_id: case_id},
            starter=case_id if starts_thread else self.starter,
        )


class CaseRepository(Repository):
    # --- reads -----------------------------------------------------------------------------------

    def get(self, case_id: str) -> Case | None:
        item = self._get(*_key(case_id))
        return Case.model_validate(item) if item else None

    def get_many(self, case_ids: list[str]) -> list[Case]:
        """The cases that exist of ``case_ids`` (in no particular order), 100 keys per read."""
        ids = list(dict.fromkeys(case_ids))
        found: list[Case] = []
        for start in range(0, len(ids), 100):
            keys: list[dict[str, Any]] = [
                {"pk": pk, "sk": sk} for pk, sk in map(_key, ids[start : start + 100])
            ]
            for _ in range(5):  # throttled keys come back as unprocessed: read them again
                with storage_errors("read cases"):
                    response = self.table.meta.client.batch_get_item(
                        RequestItems={self.table_name: {"Keys": keys, "ConsistentRead": True}}
                    )
                found += [Case.model_validate(i) for i in response["Responses"].get(self.table_name, [])]
                keys = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if not keys:
                    break
        return found

    def thread_cases(self, conversation_id: str) -> ThreadCases:
        """Every case of a thread (open or closed), in one read: its pointers are one partition."""
        items = self._query_all(
            f"the cases of conversation {conversation_id}",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": f"CONVERSATION#{conversation_id}"},
            ConsistentRead=True,
        )
        cases: dict[str, str] = {}
        starters: list[str] = []
        legacy: str | None = None
        for item in items:
            sk, case_id = str(item["sk"]), str(item["case_id"])
            if sk == LEGACY_POINTER:
                legacy = case_id
                continue
            cases[sk.removeprefix("CASE#")] = case_id
            if item.get("starts_thread"):
                starters.append(case_id)
        # Two flagged only where a complaint took over a starter TTL had deleted: the newer case,
        # named after a later post (X's ids grow with time)
        starter = max(starters, key=_posted_order, default=legacy)
        return ThreadCases(conversation_id, cases, starter)

    def find_open_for_customer(self, author_id: str) -> Case | None:
        return self._latest_of_customer(author_id, CaseStatus.OPEN, "open case")

    def another_open_case(self, customer_id: str, case_id: str) -> Case | None:
        """An OPEN case of the customer's other than ``case_id`` (a new complaint of theirs)."""
        return next((c for c in self.open_cases_of(customer_id) if c.case_id != case_id), None)

    def open_cases_of(self, customer_id: str) -> list[Case]:
        """Every OPEN case of a customer, oldest first (GSI1 holds cases by customer and status)."""
        items = self._query_all(
            f"the open cases of customer {customer_id}",
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :status)",
            ExpressionAttributeValues={":pk": f"CUSTOMER#{customer_id}", ":status": f"{CaseStatus.OPEN}#"},
        )
        return [Case.model_validate(item) for item in items]

    def find_awaiting_follow_up(self, author_id: str) -> Case | None:
        return self._latest_of_customer(author_id, CaseStatus.FOLLOW_UP, "follow-up case")

    def customers_awaiting_follow_up(self) -> set[str]:
        """Every customer with a case awaiting their follow-up, in one read (the marker items that
        ``resolved`` files and ``closed`` removes): the poller asks once per pass, not per mention."""
        items = self._query_all(
            "the customers awaiting a follow-up",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": AWAITING_FOLLOW_UP},
            ProjectionExpression="customer_id",
            ConsistentRead=True,
        )
        return {str(item["customer_id"]) for item in items}

    def _latest_of_customer(self, author_id: str, status: CaseStatus, what: str) -> Case | None:
        with storage_errors(f"find the {what} of customer {author_id}"):
            result = self.table.query(
                IndexName="GSI1",
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :status)",
                ExpressionAttributeValues={":pk": f"CUSTOMER#{author_id}", ":status": f"{status}#"},
                ScanIndexForward=False,
                Limit=1,
            )
        items = result.get("Items", [])
        return Case.model_validate(items[0]) if items else None

    # --- opening: case, thread pointer and the mention's write, in one transaction ---------------

    def open(
        self,
        case: Case,
        *,
        mention_write: dict[str, Any],
        previous_case_id: str | None,
        starts_thread: bool,
        what: str,
    ) -> Transacted:
        """Open ``case`` together with ``mention_write`` (the transaction item that stores or claims
        its first mention; it goes first, so its failure reads as 'duplicate'). The customer's pointer
        in the thread is created, or taken over from ``previous_case_id`` (a closed case) only if
        still so."""
        return self.transact(self.open_items(case, mention_write, previous_case_id, starts_thread), what)

    def open_items(
        self, case: Case, mention_write: dict[str, Any], previous_case_id: str | None, starts_thread: bool
    ) -> list[dict[str, Any]]:
        """The transaction items of ``open``: the mention's write, the case, the customer's pointer."""
        opened_at = case.opened_at.isoformat()
        item = to_item(
            {
                "pk": f"CASE#{case.case_id}",
                "sk": "CASE",
                "type": "case",
                "case_id": case.case_id,
                "status": case.status,
                "handle": case.handle,
                "root_tweet_id": case.root_tweet_id,
                "conversation_id": case.conversation_id,
                "customer_id": case.customer_id,
                "customer_username": case.customer_username,
                "priority": case.priority,
                "severity": case.severity,
                "route": case.route,
                "opened_at": opened_at,
                "opened_by": case.opened_by,
                "mention_count": case.mention_count,
                "gsi1pk": f"CUSTOMER#{case.customer_id}",
                "gsi1sk": f"{case.status}#{opened_at}",
            }
        )
        pointer_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if previous_case_id is not None:
            pointer_condition = {
                "ConditionExpression": "case_id = :previous",
                "ExpressionAttributeValues": {":previous": previous_case_id},
            }
        pointer: dict[str, Any] = {
            **pointer_key(case.conversation_id, case.customer_id),
            "case_id": case.case_id,
        }
        if starts_thread:
            pointer["starts_thread"] = True
        return [
            mention_write,
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self.table_name, "Item": pointer, **pointer_condition}},
        ]

    def count_mention(self, case_id: str, at: datetime, *, open_only: bool = True) -> dict[str, Any]:
        """The transaction item that counts one more mention on a case: only if it is OPEN, or
        (``open_only=False``: a reply after resolution or close) whatever its status, if it exists."""
        pk, sk = _key(case_id)
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": pk, "sk": sk},
            "UpdateExpression": "ADD mention_count :one SET last_mention_at = :at",
            "ExpressionAttributeValues": {":one": 1, ":at": at.isoformat()},
        }
        if open_only:
            update["ConditionExpression"] = "#status = :open"
            update["ExpressionAttributeNames"] = {"#status": "status"}
            update["ExpressionAttributeValues"][":open"] = CaseStatus.OPEN
        else:  # never create a partial case item for a case TTL has deleted
            update["ConditionExpression"] = "attribute_exists(pk)"
        return {"Update": update}

    def transact(self, items: list[dict[str, Any]], what: str) -> Transacted:
        """Run a transaction whose first item writes the mention: 'ok', 'duplicate' (that first
        condition failed) or 'race' (another condition failed: the case changed under us)."""
        try:
            self.ref.client.transact_write_items(TransactItems=to_wire(items))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise StorageError(f"could not {what}: {exc}") from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "duplicate"
            if "ConditionalCheckFailed" in reasons:
                return "race"
            raise StorageError(f"could not {what}: {reasons or exc}") from exc
        return "ok"

    def transact_all(self, items: list[dict[str, Any]], what: str) -> bool:
        """Run a transaction of several mentions' writes: True if it committed, False if DynamoDB
        cancelled it (then it wrote nothing: a condition failed, or a conflicting write)."""
        try:
            self.ref.client.transact_write_items(TransactItems=to_wire(items))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise StorageError(f"could not {what}: {exc}") from exc
        return True

    # --- the workflow's writes: each names what happened ------------------------------------------

    def _update(self, case_id: str, **fields: Any) -> None:
        self._set(*_key(case_id), must_exist=True, **fields)

    def _set_status(self, case_id: str, status: CaseStatus, **fields: Any) -> None:
        """Move the case to ``status`` (its GSI1 sort key follows, so status lookups find it)."""
        case = self.get(case_id)
        if case is None:
            raise StorageError(f"no case {case_id}")
        self._update(case_id, status=str(status), gsi1sk=f"{status}#{case.opened_at.isoformat()}", **fields)

    def assigned(
        self,
        case_id: str,
        rep_email: str,
        *,
        at: datetime,
        topic: str | None,
        incident_id: str | None,
        follows_case_id: str | None = None,
    ) -> bool:
        """The workflow's first assignment, once: False if the case was assigned before (a retry)."""
        values = to_item(
            {
                ":rep": rep_email,
                ":at": at.isoformat(),
                ":topic": topic,
                ":incident": incident_id,
                ":follows": follows_case_id,
            }
        )
        fields = {
            "assignee_email": ":rep",
            "assigned_at": ":at",
            "topic": ":topic",
            "incident_id": ":incident",
            "follows_case_id": ":follows",
        }
        sets = [f"{name} = {value}" for name, value in fields.items() if value in values]
        try:
            self.table.update_item(
                Key={"pk": f"CASE#{case_id}", "sk": "CASE"},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(assigned_at)",
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise StorageError(f"could not assign {case_id}: {exc}") from exc
        return True

    def assign(self, case_id: str, rep_email: str, *, route: Route | None = None) -> None:
        self._update(case_id, assignee_email=rep_email, route=route)

    def reassigned(self, case: Case, move: Reassignment) -> None:
        """The case moved to ``move.to_email``; the move is kept so the new rep's email tells it."""
        self._update(
            case.case_id,
            assignee_email=move.to_email,
            reassignments=[m.model_dump(mode="json") for m in [*case.reassignments, move]],
        )

    def joined_incident(self, case_id: str, incident_id: str) -> None:
        """People piling on in the case's thread opened (or joined) the topic's incident: the case is
        now one of its cases, as if it had joined when assigned (logic/reply_mail/reply_desk.py)."""
        self._update(case_id, incident_id=incident_id)

    def ack_not_posted(self, case_id: str, error: AckError) -> None:
        self._update(case_id, ack_error=error.model_dump(mode="json"))

    def acknowledged(self, case_id: str, *, tweet_id: str | None, text: str, at: datetime) -> None:
        self._update(case_id, ack_tweet_id=tweet_id, ack_text=text, first_response_at=at.isoformat())

    def notified(
        self,
        case_id: str,
        *,
        at: datetime,
        recipient: str,
        escalation_id: str,
        first: bool,
        rep_reminders: int | None,
        supervisor: bool,
        supervisor_reminders: int | None = None,
        final: bool = False,
        ack_error_shown: bool = False,
    ) -> None:
        """An escalation email went out; only its links work from now on. ``None`` leaves a count
        as it is; ``supervisor`` marks the first email to the supervisor, ``final`` the last."""
        self._update(
            case_id,
            last_notified_at=at.isoformat(),
            last_notified=recipient,
            current_escalation_id=escalation_id,
            escalated_at=at.isoformat() if first else None,
            reminders=rep_reminders,
            supervisor_escalated_at=at.isoformat() if supervisor else None,
            supervisor_reminders=supervisor_reminders,
            final_notice_at=at.isoformat() if final else None,
            ack_error_shown=True if ack_error_shown else None,
        )

    def resolved(self, case_id: str, *, at: datetime, note: str | None) -> None:
        """The case awaits the customer's follow-up. Its marker is filed first: a retry after a
        crash between the two writes repeats both, and a marker without the status costs a lookup."""
        case = self.get(case_id)
        if case is None:
            raise StorageError(f"no case {case_id}")
        with storage_errors(f"file {case_id} as awaiting a follow-up"):
            self.table.put_item(
                Item={**_awaiting_key(case), "customer_id": case.customer_id, "case_id": case_id}
            )
        self._update(
            case_id,
            status=str(CaseStatus.FOLLOW_UP),
            gsi1sk=f"{CaseStatus.FOLLOW_UP}#{case.opened_at.isoformat()}",
            resolved_at=at.isoformat(),
            resolution_note=note,
        )

    def not_resolved(self, case_id: str, *, at: datetime, note: str | None) -> None:
        self._update(case_id, unresolved_at=at.isoformat(), resolution_note=note)

    def closed(self, case: Case, *, at: datetime, outcome: str) -> int:
        """Close the case. Only now may it expire (playbook retention), with its thread pointer while
        that still names it; returns the ``expires_at`` set."""
        expires_at = self.ref.expires_at(at, self.ref.retention.closed_cases_days)
        self._set_status(
            case.case_id, CaseStatus.CLOSED, closed_at=at.isoformat(), outcome=outcome, expires_at=expires_at
        )
        with storage_errors(f"remove {case.case_id} from those awaiting a follow-up"):
            self.table.delete_item(Key=_awaiting_key(case))
        # a newer case of the customer's in the thread keeps the pointer, without a TTL
        pointer = pointer_key(case.conversation_id, case.customer_id)
        if not self._expire_pointer(pointer, case.case_id, expires_at):
            legacy = {"pk": pointer["pk"], "sk": LEGACY_POINTER}
            self._expire_pointer(legacy, case.case_id, expires_at)
        return expires_at

    def _expire_pointer(self, key: dict[str, str], case_id: str, expires_at: int) -> bool:
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression="SET expires_at = :e",
                ConditionExpression="case_id = :c",
                ExpressionAttributeValues={":e": expires_at, ":c": case_id},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise StorageError(f"could not expire the thread of {case_id}: {exc}") from exc
            return False
        return True

    def rep_replied(self, case_id: str, *, at: datetime) -> None:
        """A rep's emailed reply reached the customer (on X, public or DM)."""
        self._update(case_id, rep_replied_at=at.isoformat())

    def dm_opened(self, case_id: str, *, at: datetime) -> None:
        self._update(case_id, dm_open=True, last_dm_at=at.isoformat())

    def dm_refused(self, case_id: str, *, reason: str) -> None:
        self._update(case_id, dm_refused=True, dm_refused_reason=reason)

    def opted_out(self, case_id: str, *, at: datetime | None = None) -> None:
        self._update(case_id, opted_out=True, opted_out_at=iso(at))

    def customer_opted_out(self, author_id: str, *, at: datetime | None = None) -> list[str]:
        """ "Stop" covers the customer, not one case: every case of theirs that is open or awaits
        their follow-up is opted out (a customer may have two). Returns their ids."""
        case_ids: list[str] = []
        for status in (CaseStatus.OPEN, CaseStatus.FOLLOW_UP):
            items = self._query_all(
                f"the {status} cases of customer {author_id}",
                IndexName="GSI1",
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :status)",
                ExpressionAttributeValues={":pk": f"CUSTOMER#{author_id}", ":status": f"{status}#"},
                ProjectionExpression="case_id",
            )
            case_ids += [str(item["case_id"]) for item in items]
        for case_id in case_ids:
            self.opted_out(case_id, at=at)
        return case_ids

    def follow_up_asked(self, case_id: str, *, at: datetime, channel: str) -> None:
        self._update(case_id, follow_up_asked_at=at.isoformat(), follow_up_channel=channel)

    def await_follow_up(self, case_id: str, *, task_token: str) -> None:
        self._update(case_id, follow_up_token=task_token)

    def follow_up_arrived(self, case_id: str, post: FollowUpPost) -> None:
        self._update(case_id, follow_up_post=post.model_dump(mode="json"))

    def follow_up_read(self, case_id: str, *, at: datetime, tweet_id: str | None, sentiment: float) -> None:
        self._update(
            case_id, follow_up_at=at.isoformat(), follow_up_tweet_id=tweet_id, follow_up_sentiment=sentiment
        )

    def asked_about(self, case_id: str, *, escalation_id: str) -> None:
        """An email asked the rep about the case (e.g. "Retweet this?"): only its links work now."""
        self._update(case_id, current_escalation_id=escalation_id)

    def amplification(self, case_id: str, outcome: str, *, at: datetime | None = None) -> None:
        self._update(case_id, amplification=outcome, amplified_at=iso(at))
