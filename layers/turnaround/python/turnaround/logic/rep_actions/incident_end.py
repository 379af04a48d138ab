"""The supervisor ends an incident from its digest ("The outage is over? End this incident").

Without it an incident lasts until ``quiet_minutes`` pass without a new complaint on its topic, and
while complaints trickle in after a fix each new one is still answered with the outage's
acknowledgement. As with escalation links, GET shows a confirm page and changes nothing; POST
verifies the link again and ends the incident once (a conditional write: a second click, or a link
from an older digest, is told it has ended). The action page only marks it: the schedule
(``IncidentDigestFunction``) sends the closing summary, so the internet-facing function sends no
email.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from turnaround.clock import utc_now
from turnaround.dal.repositories import Repositories
from turnaround.logic.rep_actions.links import ActionLinkUsed, PurposeLinkSigner
from turnaround.models.incident import Incident, IncidentClaim
from turnaround.models.playbook import Playbook
from turnaround.observability import logger


class IncidentLinkSigner(PurposeLinkSigner[IncidentClaim]):
    """The incident digest's "End this incident" link."""

    purpose = "incident"
    claim_type = IncidentClaim


def end_link(signer: IncidentLinkSigner, action_url: str, incident: Incident, *, expires_at: int) -> str:
    claim = IncidentClaim(
        handle=incident.handle, topic=incident.topic, incident_id=incident.incident_id, expires_at=expires_at
    )
    return f"{action_url.rstrip('/')}/incident?t={signer.sign(claim)}"


@dataclass
class IncidentEndDesk:
    store: Repositories
    signer: IncidentLinkSigner
    playbook: Playbook
    clock: Callable[[], datetime] = utc_now

    def preview(self, token: str) -> tuple[IncidentClaim, Incident]:
        """Verify the link and load the incident it ends. Changes nothing."""
        claim = self.signer.verify(token, now=self.clock())
        incident = self.store.incidents.current(claim.handle, claim.topic)
        if incident is None or incident.incident_id != claim.incident_id:
            raise ActionLinkUsed("this incident has ended; a later one on its topic has its own digest")
        if incident.ended_at is not None:
            how = f"{incident.ended_by} ended it" if incident.ended_by else "it went quiet"
            raise ActionLinkUsed(f"this incident has already ended ({how} at {incident.ended_at:%H:%M} UTC)")
        return claim, incident

    def act(self, token: str) -> Incident:
        """End the incident now, in the supervisor's name (only the supervisor gets its digest)."""
        _, incident = self.preview(token)
        by = self.playbook.supervisor.name
        if not self.store.incidents.end_now(incident, at=self.clock(), by=by):
            raise ActionLinkUsed("this incident has already ended")
        logger.warning("incident ended by hand", extra={"incident_id": incident.incident_id, "by": by})
        return incident
