"""Scheduled: email the on-duty rep the posts triage was unsure of (turnaround/review.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.adapters.mailer import Mailer
from turnaround.adapters.secrets import action_link_keys
from turnaround.dal.repositories import Repositories
from turnaround.logic.rep_actions.review import ReviewLinkSigner, ReviewQueue, UnsureDigest
from turnaround.models.playbook import load_playbook
from turnaround.observability import logger, metrics, tracer
from turnaround.settings import DigestSettings, get_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(DigestSettings)
    parse(event=event, model=EventBridgeModel)
    digest = UnsureDigest(
        queue=ReviewQueue(Repositories(settings.TABLE_NAME)),
        mailer=Mailer(),
        signer=ReviewLinkSigner(action_link_keys(settings.ACTION_LINK_SECRET_NAME)),
        playbook=load_playbook(settings.PLAYBOOK_PATH),
        action_url=settings.ACTION_URL,
    )
    return {"posts_in_digest": {handle: digest.send(handle) for handle in settings.MONITORED_HANDLES}}
