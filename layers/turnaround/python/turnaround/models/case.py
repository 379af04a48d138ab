"""A complaint's case and what hangs off it: the escalations its emails answer, its DMs and the
messages reps wrote by email. Each model is the item as stored (key attributes left out)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from turnaround.models.mention import Mention, Severity

Route = Literal["offline", "public"]  # offline: charged or complex, taken to DM


class CaseStatus(StrEnum):
    OPEN = "OPEN"  # new mentions in its thread attach to it
    FOLLOW_UP = "FOLLOW_UP"  # resolved; waiting for the customer's own post
    CLOSED = "CLOSED"


class _Stored(BaseModel):
    # Items carry their key attributes (pk, sk, gsi1pk...) too; the models leave them out.
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")


class FollowUpPost(_Stored):
    """The customer's first post after resolution, handed to the waiting workflow."""

    tweet_id: str
    text: str
    author_id: str
    quoted_tweet_id: str | None = None
    # What triage made of it: only praise is amplified (plain thanks the model was unsure of, only
    # when the rep confirms); a post outside the case's thread is one only if not a new complaint.
    category: str | None = None
    thanks: bool = False
    triage_reason: str = ""
    in_thread: bool = False


class AckError(_Stored):
    """Why the public acknowledgement could not be posted (the rep's email says so)."""

    error: str  # the Step Functions error name, e.g. XRateLimited
    reason: str  # in words, for the rep
    at: datetime


class Reassignment(_Stored):
    """One move of the case to another rep, from an email link."""

    from_email: str
    to_email: str
    # Who it went to, as the roster said when it moved: a workflow pinned to an older function
    # version (its playbook, its roster) emails them by these even if that roster never knew them.
    to_name: str | None = None
    to_initials: str | None = None
    by: str  # the name of who moved it (or their address)
    at: datetime
    note: str = ""


class Case(_Stored):
    """One complaint thread, from its first post to its close. Every attribute the workflow writes."""

    # Opened (by ingest, or by a reviewer from the unsure queue)
    case_id: str
    status: CaseStatus
    handle: str
    root_tweet_id: str
    conversation_id: str
    customer_id: str
    customer_username: str
    priority: int = 4
    severity: Severity | None = None
    route: Route = "public"
    opened_at: datetime
    opened_by: str | None = None  # the reviewer, when opened from the unsure queue
    mention_count: int = 1
    last_mention_at: datetime | None = None
    # Assigned (the workflow's first step): the rep by load, the topic and the incident it joined
    assigned_at: datetime | None = None
    topic: str | None = None
    incident_id: str | None = None
    # The customer's earlier case, still OPEN when this one was assigned: one rep and one voice for
    # one customer (its rep takes this case if they may; no second automated ack)
    follows_case_id: str | None = None
    # Acknowledged
    assignee_email: str | None = None
    ack_post_at: datetime | None = None  # its slot in the ack queue (storm mode), reserved once
    ack_tweet_id: str | None = None
    ack_text: str | None = None  # what we posted, shown to whoever reads the case's emails
    first_response_at: datetime | None = None
    ack_error: AckError | None = None  # the ack could not be posted (the case went on without it)
    ack_error_shown: bool = False  # an email to the rep has said so
    rep_replied_at: datetime | None = None  # the latest of a rep's emailed replies that reached X
    # Escalated to the rep (and perhaps the supervisor)
    escalated_at: datetime | None = None
    last_notified_at: datetime | None = None
    last_notified: str | None = None  # the email address of the latest escalation
    current_escalation_id: str | None = None  # only this escalation's links work
    reminders: int = 0
    supervisor_escalated_at: datetime | None = None
    supervisor_reminders: int = 0  # reminders the supervisor was sent (capped by the playbook)
    final_notice_at: datetime | None = None  # the last reminder: the case now waits, unreminded
    reassignments: list[Reassignment] = []
    # The rep's decision
    resolved_at: datetime | None = None
    unresolved_at: datetime | None = None
    resolution_note: str | None = None
    # Direct messages
    dm_open: bool = False  # the customer DMed us
    last_dm_at: datetime | None = None
    dm_refused: bool = False  # X refused our automated DM
    dm_refused_reason: str | None = None
    # Opt-out
    opted_out: bool = False
    opted_out_at: datetime | None = None
    # Follow-up and amplification
    follow_up_asked_at: datetime | None = None
    follow_up_channel: str | None = None
    follow_up_token: str | None = None
    follow_up_post: FollowUpPost | None = None
    follow_up_at: datetime | None = None
    follow_up_tweet_id: str | None = None
    follow_up_sentiment: float | None = None
    amplification: str | None = None
    amplified_at: datetime | None = None
    # Closed
    closed_at: datetime | None = None
    outcome: str | None = None
    expires_at: int | None = None  # TTL (epoch seconds): set only when the case closes

    @staticmethod
    def id_opened_by(tweet_id: str) -> str:
        """The id of the case a post opens (a case is named after the complaint that opened it)."""
        return f"case-{tweet_id}"

    @classmethod
    def opened_from(cls, mention: Mention, *, opened_at: datetime, opened_by: str | None = None) -> Case:
        """The case a complaint opens: its thread, its customer and how urgent it is."""
        return cls(
            case_id=cls.id_opened_by(mention.tweet_id),
            status=CaseStatus.OPEN,
            handle=mention.handle,
            root_tweet_id=mention.tweet_id,
            conversation_id=mention.conversation_id,
            customer_id=mention.author.id,
            customer_username=mention.author.username,
            priority=mention.triage.priority,
            severity=mention.triage.severity,
            route="offline" if mention.triage.goes_offline else "public",
            opened_at=opened_at,
            opened_by=opened_by,
        )


class ShownPost(_Stored):
    """A customer's post an email asks the rep about ("Retweet this?")."""

    tweet_id: str
    text: str


class Escalation(_Stored):
    """One escalation email: what its action links answer, and whether one was used."""

    escalation_id: str
    case_id: str
    task_token: str
    role: str
    recipient: str
    created_at: datetime
    expires_at: int  # epoch seconds, as the links carry it
    used_at: datetime | None = None
    used_action: str | None = None
    note: str | None = None
    post: ShownPost | None = None  # what "Retweet this?" asks about
    # An incident case's wait on the supervisor has no email of its own: its signed links, by
    # action, are listed in the incident's digest (logic/workflow/notify.py).
    links: dict[str, str] | None = None


DmDirection = Literal["customer", "brand"]


class StoredDm(_Stored):
    """A DM either way, threaded into the customer's open case when there is one."""

    event_id: str
    direction: DmDirection
    text: str
    sender_id: str | None = None
    case_id: str | None = None
    created_at: datetime | None = None


Channel = Literal["email", "x_dm", "x_public"]


class CaseMessage(_Stored):
    """One entry of a case's conversation written or refused by email."""

    case_id: str
    key: str
    at: datetime
    author: str  # "Alex Rivera <alex@acme.example>"
    channel: Channel  # where it went (x_dm, x_public) or, if it went nowhere, email
    text: str
    outcome: str  # "posted", "not posted: <why>", "ignored: <why>"
    x_id: str | None = None
    in_reply_to_tweet_id: str | None = None
    attachments: list[str] = []
