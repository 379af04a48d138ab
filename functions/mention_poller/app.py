"""Scheduled poller: store new @mentions of every monitored handle, exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.dal.repositories import Repositories
from turnaround.logic.ingest.mentions import poll_monitored_handles
from turnaround.logic.workflow.case_workflow import customer_post_listener
from turnaround.models.playbook import load_playbook
from turnaround.observability import logger, metrics, tracer
from turnaround.settings import PollerSettings, get_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(PollerSettings)
    schedule = parse(event=event, model=EventBridgeModel)
    logger.append_keys(schedule_time=schedule.time.isoformat())
    store = Repositories(settings.TABLE_NAME)
    listener = customer_post_listener(store, load_playbook(settings.PLAYBOOK_PATH), WorkflowClient())
    results = poll_monitored_handles(
        settings,
        store=store,
        on_stored=listener,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    return {"handles": [result.model_dump(mode="json") for result in results]}
