"""DynamoDB stream → one Step Functions execution per new case (partial batch failures reported)."""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.case_dispatcher import record_handler
from turnaround.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
container.warm(record_handler)  # in Lambda only: INIT has the full CPU


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler(), processor=processor, context=context
        )
    )
