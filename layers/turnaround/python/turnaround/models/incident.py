"""An incident: a spike of complaints on one topic, handled as one (playbook ``incidents``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from turnaround.models.keys import SignedClaim


class _Stored(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")


class Incident(_Stored):
    """The incident a topic's complaints join while it is active (``last_case_at`` within the
    playbook's quiet time). ``status_url`` is the one status post its acks point to: the playbook's
    unless ops set another on the item."""

    incident_id: str
    handle: str
    topic: str
    opened_at: datetime
    last_case_at: datetime
    status_url: str
    noticed_at: datetime | None = None  # when the workflow opened it (later than opened_at in a backlog)
    opened_on_count: int = (
        0  # complaints on the topic in the window when it opened (the earlier ones stay ordinary cases)
    )
    # The customer under whose complaint people piled on until the topic crossed the threshold (their
    # thread's people count as complaints: logic/incidents.py); None when complaints of their own did
    opened_by_pile_on: str | None = None
    ended_at: datetime | None = None  # quiet_minutes passed without a case, or the supervisor ended it
    ended_by: str | None = None  # who ended it from a digest's link (None: it went quiet)
    summary_due: bool = False  # ended from a link; the schedule has not sent its closing summary yet
    # The topic's earlier incident this one took over before the schedule had ended it (a new spike
    # within minutes of the old one going quiet): the schedule sends its closing summary, then clears it.
    replaces: Incident | None = None


class IncidentClaim(SignedClaim):
    """What a digest's signed "End this incident" link carries: which incident."""

    handle: str
    topic: str
    incident_id: str


class IncidentCase(_Stored):
    """One case of an incident, as the supervisor's digest lists it."""

    case_id: str
    tweet_id: str
    username: str
    followers: int = 0
    verified: bool = False
    priority: int = 4
    text: str
    rep_email: str
    joined_at: datetime

    @property
    def vip(self) -> bool:
        """Verified, influential (10k followers) or the most urgent: the supervisor should know."""
        return self.verified or self.followers >= 10_000 or self.priority == 1
