"""Scheduled: email the on-duty rep the posts triage was unsure of (logic/rep_actions/review.py)."""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.schedule import scheduled_time
from turnaround.handlers.unsure_digest import send_digests, unsure_digest
from turnaround.observability import logger, metrics, tracer

container.warm(unsure_digest)  # in Lambda only: INIT has the full CPU


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled_time(event)
    return {"posts_in_digest": send_digests()}
