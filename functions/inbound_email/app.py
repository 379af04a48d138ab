"""A rep's emailed reply, as SES received it (receipt rule: store in S3, then invoke this function).

Transient X errors raise, so Lambda's asynchronous retries try again (the outbox keeps it to one
post); after the last retry the event goes to the on-failure destination, and the mail stays in S3.
"""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.reply_mail import inbound_desk, mailbox, receive_replies
from turnaround.logic.reply_mail.inbound_event import SesReceiptEvent
from turnaround.observability import logger, metrics, tracer

container.warm(inbound_desk, mailbox)  # in Lambda only: INIT has the full CPU


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = receive_replies(SesReceiptEvent.model_validate(event))
    return {"outcomes": [outcome.model_dump(mode="json") for outcome in outcomes]}
