"""DynamoDB stream → one Step Functions execution per new case (partial batch failures reported)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.logic.workflow.dispatch import start_for_new_case
from turnaround.models.playbook import load_playbook
from turnaround.observability import logger, metrics, tracer
from turnaround.settings import DispatcherSettings, get_settings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(DispatcherSettings)
    handle_record = partial(
        start_for_new_case,
        workflow=WorkflowClient(settings.STATE_MACHINE_ARN),
        playbook=load_playbook(settings.PLAYBOOK_PATH),
    )
    return dict(
        process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    )
