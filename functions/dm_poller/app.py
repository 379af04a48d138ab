"""Scheduled DM poller: thread customers' DMs into their cases; send the one allowed automated DM."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.adapters.secrets import CredentialStore
from turnaround.adapters.x_api import XApi
from turnaround.dal.store import MentionStore
from turnaround.logic.ingest.dms import DmIngestor
from turnaround.models.playbook import load_playbook
from turnaround.observability import logger, metrics, tracer
from turnaround.settings import DmPollerSettings, get_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(DmPollerSettings)
    parse(event=event, model=EventBridgeModel)
    credentials, store = (
        CredentialStore(settings.X_CREDENTIALS_SECRET_PREFIX),
        MentionStore(settings.TABLE_NAME),
    )
    playbook = load_playbook(settings.PLAYBOOK_PATH)
    results = {}
    for handle in settings.MONITORED_HANDLES:
        x = XApi(
            credentials.x_credentials(handle),
            base_url=settings.X_API_BASE_URL,
            timeout=settings.X_HTTP_TIMEOUT_SECONDS,
            writes_enabled=settings.X_WRITES_ENABLED,
        )
        results[handle] = DmIngestor(handle=handle, x=x, store=store, playbook=playbook).poll()
    return {"handles": results}
