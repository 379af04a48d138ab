"""Mentions: ``MENTION#<tweet_id>`` items, stored exactly once, threaded into their case (GSI1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from turnaround.dal.cases import CaseRepository, ThreadCases
from turnaround.dal.table import Repository, TableRef, condition_failed, epoch, to_item
from turnaround.exceptions import StorageError
from turnaround.models.case import Case, CaseStatus
from turnaround.models.mention import Mention, Triage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MAX_CASE_RACE_RETRIES = 3


@dataclass(frozen=True)
class RecordOutcome:
    stored: bool
    case_id: str | None = None
    case_opened: bool = False
    case_open: bool = False  # the case it joined or opened is OPEN (False: resolved or closed, or none)
    thread: ThreadCases | None = None  # the thread's cases after this write, where the write knew them


@dataclass(frozen=True)
class PlannedWrite:
    """One mention's write as ``record`` would make it when its thread's cases are known, held for a
    batch (``MentionRepository.record_all``): its transaction items, and its outcome if they commit."""

    mention: Mention
    open_case: bool
    retention: timedelta
    thread: ThreadCases
    items: list[dict[str, Any]]
    outcome: RecordOutcome

    @property
    def keys(self) -> set[tuple[str, str]]:
        """The items it writes: one transaction may not touch an item twice."""
        return {
            (str(key["pk"]), str(key["sk"]))
            for entry in self.items
            for body in entry.values()
            for key in [body.get("Key") or body["Item"]]
        }


MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit on TransactWriteItems


class _Unknown:
    """The thread's cases were not looked up: ``record`` reads them."""


UNKNOWN = _Unknown()
KnownThread = ThreadCases | _Unknown


def starts_its_thread(mention: Mention) -> bool:
    """The post that started its thread (or a new version of it): its case is the thread's starter."""
    return mention.conversation_id in (mention.tweet_id, mention.edit_of)


def new_case_starts_thread(
    mention: Mention, thread: ThreadCases, joins: str | None, joined: Case | None
) -> bool:
    """Whether the case ``mention`` opens is its thread's starter (others' complaints pile on it):
    the thread's first post, or a complaint taking over the starter's case (``joins``, read as
    ``joined``) where that case is gone (TTL) or was the author's own. A thread with no starter
    (ours: an outage notice) keeps none: a customer's complaint under our post is theirs alone."""
    if starts_its_thread(mention):
        return True
    takes_over = joins is not None and joins == thread.starter
    return takes_over and (joined is None or joined.customer_id == mention.author.id)


def _key(tweet_id: str) -> tuple[str, str]:
    return f"MENTION#{tweet_id}", "MENTION"


class MentionRepository(Repository):
    def __init__(
        self, table_name: str | TableRef, *, table: Table | None = None, cases: CaseRepository | None = None
    ):
        super().__init__(table_name, table=table)
        self.cases = cases or CaseRepository(self.ref)

    def get(self, tweet_id: str) -> Mention | None:
        item = self._get(*_key(tweet_id))
        return Mention.model_validate(item) if item else None

    def for_case(self, case_id: str) -> list[Mention]:
        return [Mention.model_validate(item) for item in self._case_items(case_id, "MENTION#")]

    def set_triage(self, tweet_id: str, triage: Triage) -> None:
        """A person's triage replaces the model's (the unsure queue)."""
        self._set(*_key(tweet_id), triage=triage.model_dump(mode="json"))

    def attach(self, tweet_id: str, case_id: str, triage: Triage) -> None:
        """Thread a stored mention into an existing case, with a person's triage."""
        self._set(
            *_key(tweet_id), case_id=case_id, triage=triage.model_dump(mode="json"),
            gsi1pk=f"CASE#{case_id}", gsi1sk=f"MENTION#{tweet_id}",
        )  # fmt: skip

    def claim_for_new_case(
        self, tweet_id: str, case_id: str, triage: Triage, *, from_case_id: str | None = None
    ) -> dict[str, Any]:
        """The transaction item that gives a stored mention its new case: a caseless one, or one
        that joined ``from_case_id`` (a resolved or closed case of its thread)."""
        pk, sk = _key(tweet_id)
        condition = "attribute_exists(pk) AND attribute_not_exists(case_id)"
        values = {
            ":case": case_id,
            ":triage": triage.model_dump(mode="json"),
            ":g1": f"CASE#{case_id}",
            ":g1s": f"MENTION#{tweet_id}",
        }
        if from_case_id is not None:
            condition = "attribute_exists(pk) AND (attribute_not_exists(case_id) OR case_id = :from)"
            values[":from"] = from_case_id
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"pk": pk, "sk": sk},
                "UpdateExpression": "SET case_id = :case, triage = :triage, gsi1pk = :g1, gsi1sk = :g1s",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": to_item(values),
            }
        }

    # --- ingest: store once, joining or opening the thread's case --------------------------------

    def _item(self, mention: Mention, case_id: str | None, retention: timedelta) -> dict[str, Any]:
        item = to_item({**mention.model_dump(mode="json"), "case_id": case_id})
        pk, sk = _key(mention.tweet_id)
        item.update(pk=pk, sk=sk, type="mention", expires_at=epoch(mention.ingested_at + retention))
        if case_id:
            item.update(gsi1pk=f"CASE#{case_id}", gsi1sk=f"MENTION#{mention.tweet_id}")
        return item

    def record(
        self, mention: Mention, *, open_case: bool, retention: timedelta, thread: KnownThread = UNKNOWN
    ) -> RecordOutcome:
        """Store ``mention`` once, in the case it belongs to, whatever that case's status (a reply
        after resolution, or after close, belongs to the case a rep knows): the author's own case in
        the thread, else the case of the post that started the thread (a pile-on joins it). A
        complaint whose case is no longer OPEN opens a case of its own (a person must see it; the old
        case's workflow is done or only listening for a follow-up); with none and ``open_case`` set,
        it opens one. Returns ``stored=False`` if it was already stored.

        ``thread`` is the thread's cases if the caller knows them (the poller's per-poll memory, or
        none for a thread root it knows is new): then the common path is one DynamoDB call, the
        conditional write itself. If what the caller knew was wrong, the write's condition fails
        and the thread is read afresh: a hint can cost a call, never a wrong write."""
        if isinstance(thread, _Unknown):
            thread = self.cases.thread_cases(mention.conversation_id)
        outcome = self._write_assuming(mention, thread, open_case=open_case, retention=retention)
        if outcome is not None:
            return outcome
        author = mention.author.id
        for _ in range(MAX_CASE_RACE_RETRIES):
            thread = self.cases.thread_cases(mention.conversation_id)
            joins = thread.owner_for(author)
            existing = self.cases.get(joins) if joins else None
            if existing is None:
                # TTL deletes a closed case and its pointer independently: a pointer left to a deleted
                # case is a thread without a case, taken over by the next complaint.
                outcome = (
                    self._open_case(
                        mention, thread, retention, previous=thread.cases.get(author),
                        starts_thread=new_case_starts_thread(mention, thread, joins, existing),
                    )
                    if open_case
                    else self._put_plain(mention, retention)
                )  # fmt: skip
            elif existing.status == CaseStatus.OPEN:
                outcome = self._attach(mention, thread, existing.case_id, retention, open_only=True)
            elif open_case:  # the customer's next case in the thread: the starter's if theirs was
                outcome = self._open_case(
                    mention, thread, retention, previous=thread.cases.get(author),
                    starts_thread=new_case_starts_thread(mention, thread, joins, existing),
                )  # fmt: skip
            else:
                outcome = self._attach(mention, thread, existing.case_id, retention, open_only=False)
            if outcome is not None:
                return outcome
        raise StorageError(
            f"case for conversation {mention.conversation_id} kept changing; mention "
            f"{mention.tweet_id} not stored, the next poll retries it"
        )

    def plan(
        self, mention: Mention, *, open_case: bool, retention: timedelta, thread: ThreadCases
    ) -> PlannedWrite | None:
        """``record``'s write for ``mention`` assuming ``thread`` holds its thread's cases, to batch
        with others; None where that write is not a transaction (a post that opens nothing and joins
        no case is one PutItem, half a transaction item's write units): ``record`` it."""
        joins = thread.owner_for(mention.author.id)
        if joins is None and not open_case:
            return None
        if joins is None:
            case = Case.opened_from(mention, opened_at=mention.ingested_at)
            starts = starts_its_thread(mention)
            items = self.cases.open_items(
                case, self._store_once(mention, case.case_id, retention), None, starts
            )
            outcome = RecordOutcome(
                stored=True, case_id=case.case_id, case_opened=True, case_open=True,
                thread=thread.with_case(mention.author.id, case.case_id, starts_thread=starts),
            )  # fmt: skip
        else:
            open_only = open_case or mention.triage.category == "unsure"
            items = self._attach_items(mention, joins, retention, open_only=open_only)
            outcome = RecordOutcome(stored=True, case_id=joins, case_open=open_only, thread=thread)
        return PlannedWrite(mention, open_case, retention, thread, items, outcome)

    def record_all(self, planned: list[PlannedWrite]) -> list[RecordOutcome]:
        """Make the planned writes in one transaction (together at most MAX_TRANSACTION_ITEMS items,
        none touching an item another touches): one call for many mentions, each write under its own
        condition. DynamoDB commits all or none; if it cancels (one was stored already, or a case
        changed), each is then recorded alone (``record``), which tells a duplicate from a race: a
        batch can cost calls, never a lost, misfiled or doubled write."""
        if len(planned) > 1:
            items = [item for write in planned for item in write.items]
            if self.cases.transact_all(items, f"store {len(planned)} mentions"):
                return [write.outcome for write in planned]
        return [
            self.record(w.mention, open_case=w.open_case, retention=w.retention, thread=w.thread)
            for w in planned
        ]

    def _write_assuming(
        self, mention: Mention, thread: ThreadCases, *, open_case: bool, retention: timedelta
    ) -> RecordOutcome | None:
        """One write, assuming ``thread`` is what the thread's pointers say; None when a condition
        says otherwise. A complaint, or a post triage is unsure of, joins only an OPEN case this way."""
        joins = thread.owner_for(mention.author.id)
        if joins is None:
            return (
                self._open_case(
                    mention, thread, retention, previous=None, starts_thread=starts_its_thread(mention)
                )
                if open_case
                else self._put_plain(mention, retention)
            )
        open_only = open_case or mention.triage.category == "unsure"
        return self._attach(mention, thread, joins, retention, open_only=open_only)

    def _put_plain(self, mention: Mention, retention: timedelta) -> RecordOutcome:
        try:
            self.table.put_item(
                Item=self._item(mention, None, retention), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if condition_failed(exc):
                return RecordOutcome(stored=False)
            raise StorageError(f"could not store mention {mention.tweet_id}: {exc}") from exc
        return RecordOutcome(stored=True)

    def _store_once(self, mention: Mention, case_id: str, retention: timedelta) -> dict[str, Any]:
        """The transaction item that stores the mention; its condition is what makes ingest exactly-once."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": self._item(mention, case_id, retention),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _attach_items(
        self, mention: Mention, case_id: str, retention: timedelta, *, open_only: bool
    ) -> list[dict[str, Any]]:
        return [
            self._store_once(mention, case_id, retention),
            self.cases.count_mention(case_id, mention.ingested_at, open_only=open_only),
        ]

    def _attach(
        self, mention: Mention, thread: ThreadCases, case_id: str, retention: timedelta, *, open_only: bool
    ) -> RecordOutcome | None:
        result = self.cases.transact(
            self._attach_items(mention, case_id, retention, open_only=open_only),
            f"store mention {mention.tweet_id}",
        )
        if result == "race":
            return None
        stored = result == "ok"
        return RecordOutcome(
            stored=stored, case_id=case_id if stored else None, case_open=stored and open_only, thread=thread
        )

    def _open_case(
        self,
        mention: Mention,
        thread: ThreadCases,
        retention: timedelta,
        *,
        previous: str | None,
        starts_thread: bool,
    ) -> RecordOutcome | None:
        case = Case.opened_from(mention, opened_at=mention.ingested_at)
        result = self.cases.open(
            case,
            mention_write=self._store_once(mention, case.case_id, retention),
            # the customer's closed case in the thread: take its pointer over only if still so
            previous_case_id=previous,
            starts_thread=starts_thread,
            what=f"store mention {mention.tweet_id}",
        )
        if result == "race":
            return None
        opened = result == "ok"
        return RecordOutcome(
            stored=opened, case_id=case.case_id if opened else None, case_opened=opened, case_open=opened,
            thread=thread.with_case(mention.author.id, case.case_id, starts_thread=starts_thread)
            if opened else thread,
        )  # fmt: skip
