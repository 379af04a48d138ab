"""The unsure queue's storage: ``REVIEW#<handle>`` items (one per post triage could not decide),
claimed once per digest and decided once, and the case a reviewer opens, written as ingest writes one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from turnaround.dal.mentions import new_case_starts_thread
from turnaround.dal.repositories import Repositories
from turnaround.dal.table import Repository, storage_errors, to_item
from turnaround.exceptions import StorageError
from turnaround.models.case import Case, CaseStatus
from turnaround.models.mention import Mention
from turnaround.models.review import ReviewClaim, ReviewItem, WaitingDm
from turnaround.observability import metrics

RETENTION = timedelta(days=30)


class ReviewQueue(Repository):
    """The queue on the store's table (a repository like the others: its paged reads and put-once
    writes are theirs); ``store`` is kept for the case a reviewer opens."""

    def __init__(self, store: Repositories):
        super().__init__(store.ref)
        self.store = store

    @staticmethod
    def key(tweet_id: str) -> str:
        """Post ids grow with time, so zero-padded they keep the queue oldest first."""
        return f"{int(tweet_id):020d}"

    def add(self, mention: Mention) -> None:
        """File an unsure post once (a re-read post is already there)."""
        item = to_item(
            {
                "pk": f"REVIEW#{mention.handle}",
                "sk": self.key(mention.tweet_id),
                "type": "review",
                "state": "PENDING",
                "tweet_id": mention.tweet_id,
                "handle": mention.handle,
                "queued_at": mention.ingested_at.isoformat(),
                "expires_at": int((mention.ingested_at + RETENTION).timestamp()),
            }
        )
        if self._put_once(item, f"queue {mention.tweet_id} for review"):
            metrics.add_metric(name="MentionsUnsure", unit=MetricUnit.Count, value=1)

    # --- DMs no case could take: shown once in the next digest ------------------------------------

    @staticmethod
    def dm_partition(handle: str) -> str:
        return f"REVIEW#{handle}#DM"

    def add_dm(self, handle: str, dm: WaitingDm) -> None:
        """File a DM from a customer with no open case once (a re-read DM is already there)."""
        item = to_item(
            {
                **dm.model_dump(mode="json", exclude={"review_key"}),
                "pk": self.dm_partition(handle),
                "sk": dm.review_key,
                "type": "review_dm",
                "expires_at": int((dm.queued_at + RETENTION).timestamp()),
            }
        )
        if self._put_once(item, f"queue DM {dm.event_id} for a person"):
            metrics.add_metric(name="DmsWithoutCase", unit=MetricUnit.Count, value=1)

    def waiting_dms(self, handle: str) -> list[WaitingDm]:
        """DMs not yet shown in a digest, oldest first."""
        items = self._query(self.dm_partition(handle), Attr("digested_at").not_exists())
        return [WaitingDm.model_validate(item) for item in items]

    def dms_from(self, handle: str, sender_id: str) -> list[WaitingDm]:
        """The customer's DMs that no case took (shown in a digest or not), oldest first."""
        items = self._query(self.dm_partition(handle), Attr("sender_id").eq(sender_id))
        return [WaitingDm.model_validate(item) for item in items]

    def claim_dm(self, dm: WaitingDm, at: datetime) -> bool:
        """Claim a DM for one digest; False if another run already has it."""
        return self._claim(self.dm_partition(dm.handle), dm.review_key, at, what=f"DM {dm.event_id}")

    def release_dm(self, dm: WaitingDm) -> None:
        self._release(self.dm_partition(dm.handle), dm.review_key)

    # --- posts triage could not decide ------------------------------------------------------------

    def waiting(self, handle: str) -> list[ReviewItem]:
        """Posts not yet decided, oldest first."""
        items = self._query(f"REVIEW#{handle}", Attr("state").eq("PENDING"))
        return [ReviewItem.model_validate(item) for item in items]

    def claim(self, item: ReviewItem, at: datetime) -> bool:
        """Claim a new post for one digest; False if another run already has it."""
        return self._claim(f"REVIEW#{item.handle}", item.review_key, at, what=item.tweet_id)

    def release(self, item: ReviewItem) -> None:
        self._release(f"REVIEW#{item.handle}", item.review_key)

    def _query(self, partition: str, keep: ConditionBase) -> list[dict[str, Any]]:
        """Every item of ``partition`` that ``keep`` lets through, oldest first."""
        return self._query_all(
            partition,
            KeyConditionExpression=Key("pk").eq(partition),
            FilterExpression=keep,
            ConsistentRead=True,
        )

    def _claim(self, partition: str, sort_key: str, at: datetime, *, what: str) -> bool:
        try:
            self.table.update_item(
                Key={"pk": partition, "sk": sort_key},
                UpdateExpression="SET digested_at = :at",
                ConditionExpression="attribute_not_exists(digested_at)",
                ExpressionAttributeValues={":at": at.isoformat()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not claim {what} for a digest: {exc}") from exc
        return True

    def _release(self, partition: str, sort_key: str) -> None:
        """Give a claimed item back to the next digest (its send failed)."""
        with storage_errors(f"release {partition} {sort_key} for the next digest"):
            self.table.update_item(
                Key={"pk": partition, "sk": sort_key}, UpdateExpression="REMOVE digested_at"
            )

    def get(self, handle: str, review_key: str) -> ReviewItem | None:
        item = self.table.get_item(Key={"pk": f"REVIEW#{handle}", "sk": review_key}).get("Item")
        return ReviewItem.model_validate(item) if item else None

    def decide(self, claim: ReviewClaim, *, at: datetime) -> bool:
        """Record the decision once; False if the post was already decided."""
        try:
            self.table.update_item(
                Key={"pk": f"REVIEW#{claim.handle}", "sk": claim.review_key},
                UpdateExpression="SET #state = :decided, decision = :decision, decided_at = :at",
                ConditionExpression="#state = :pending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":decided": "DECIDED",
                    ":pending": "PENDING",
                    ":decision": claim.decision,
                    ":at": at.isoformat(),
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not record the decision on {claim.tweet_id}: {exc}") from exc
        return True


def open_case_for(store: Repositories, mention: Mention, *, opened_at: datetime, by: str) -> str:
    """Open the case ingest would have opened for this post: case + the customer's thread pointer +
    mention, at once (the same ``CaseRepository.open`` ingest uses; here the mention is already
    stored, so its write gives it the case instead of storing it).

    If the post belongs to an OPEN case (the customer's own in the thread, else the case its thread's
    first post opened), it joins it instead. Where that case is closed, waits for a follow-up or was
    deleted by TTL, the customer gets a new case (taking their own pointer over), as ingest does: the
    reviewer said "complaint", so it must reach a workflow, never a case that will not act. The new
    CASE item reaches the dispatcher through the table's stream, like any case.
    """
    triage = mention.triage.model_copy(
        update={
            "category": "complaint",
            "reasons": [*mention.triage.reasons, f"opened by {by} from the unsure queue"],
        }
    )
    thread = store.cases.thread_cases(mention.conversation_id)
    joins = thread.owner_for(mention.author.id)
    existing = store.cases.get(joins) if joins else None
    if existing is not None and existing.status == CaseStatus.OPEN:
        store.mentions.attach(mention.tweet_id, existing.case_id, triage)
        return existing.case_id
    own = thread.cases.get(mention.author.id)
    case = Case.opened_from(mention.model_copy(update={"triage": triage}), opened_at=opened_at, opened_by=by)
    result = store.cases.open(
        case,
        mention_write=store.mentions.claim_for_new_case(
            mention.tweet_id, case.case_id, triage, from_case_id=joins
        ),  # ingest may have put the post on that closed case
        previous_case_id=own,  # the customer's pointer, taken over only if it still names that case
        starts_thread=new_case_starts_thread(mention, thread, joins, existing),
        what=f"open a case for {mention.tweet_id}",
    )
    if result != "ok":  # the thread changed under us: the reviewer's retry reads it again
        raise StorageError(f"could not open a case for {mention.tweet_id}: {result}")
    return case.case_id
