"""ActionPageFunction's wiring: the desks behind the rep's email links, the review links and the
incident digest's "End this incident"."""

from __future__ import annotations

from turnaround.handlers import container
from turnaround.logic.rep_actions.desk import ActionDesk
from turnaround.logic.rep_actions.incident_end import IncidentEndDesk, IncidentLinkSigner
from turnaround.logic.rep_actions.links import ActionLinkSigner
from turnaround.logic.rep_actions.review import ReviewDesk, ReviewLinkSigner, ReviewQueue
from turnaround.settings import ActionPageSettings, get_settings


def settings() -> ActionPageSettings:
    return get_settings(ActionPageSettings)


@container.per_container
def action_desk() -> ActionDesk:
    config = settings()
    return ActionDesk(
        store=container.store(config.TABLE_NAME),
        signer=ActionLinkSigner(container.link_keys(config.ACTION_LINK_SECRET_NAME)),
        workflow=container.workflow_client(),
        playbook=container.playbook(config.PLAYBOOK_PATH),
    )


@container.per_container
def incident_end_desk() -> IncidentEndDesk:
    config = settings()
    return IncidentEndDesk(
        store=container.store(config.TABLE_NAME),
        signer=IncidentLinkSigner(container.link_keys(config.ACTION_LINK_SECRET_NAME)),
        playbook=container.playbook(config.PLAYBOOK_PATH),
    )


@container.per_container
def review_desk() -> ReviewDesk:
    config = settings()
    return ReviewDesk(
        queue=ReviewQueue(container.store(config.TABLE_NAME)),
        signer=ReviewLinkSigner(container.link_keys(config.ACTION_LINK_SECRET_NAME)),
    )
