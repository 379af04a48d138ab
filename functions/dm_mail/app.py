"""DynamoDB stream (a customer's new DM, or new post in their open case's thread) → an email to the
case's rep in the case's email thread."""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.reply_mail import dm_mail_desk
from turnaround.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
container.warm(dm_mail_desk)  # in Lambda only: INIT has the full CPU


def _forward(record: DynamoDBRecord) -> bool:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image:
        return False
    if image.get("type") == "mention":
        return dm_mail_desk().forward_customer_post(dict(image))
    if image.get("type") != "dm" or image.get("direction") != "customer":
        return False
    return dm_mail_desk().forward_customer_dm(dict(image))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=_forward, processor=processor, context=context)
    )
