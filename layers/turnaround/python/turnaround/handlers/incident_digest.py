"""IncidentDigestFunction's wiring: the supervisor's incident digests and closing summaries
(logic/incidents.py)."""

from __future__ import annotations

from turnaround.handlers import container
from turnaround.logic.incidents import IncidentDesk
from turnaround.logic.rep_actions.incident_end import IncidentLinkSigner
from turnaround.settings import IncidentDigestSettings, get_settings


@container.per_container
def incident_desk() -> IncidentDesk:
    settings = get_settings(IncidentDigestSettings)
    return IncidentDesk(
        store=container.store(settings.TABLE_NAME),
        mailer=container.mailer(),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
        signer=IncidentLinkSigner(container.link_keys(settings.ACTION_LINK_SECRET_NAME)),
        action_url=settings.ACTION_URL,
    )


def tend_incidents() -> dict[str, dict[str, str]]:
    """Per monitored handle, what each topic's incident got: "digest", "ended", "no digest due"."""
    desk = incident_desk()
    return {handle: desk.tend(handle) for handle in get_settings(IncidentDigestSettings).MONITORED_HANDLES}
