"""Scheduled poller: store new @mentions of every monitored handle, exactly once."""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.mention_poller import mention_poller, triage_model
from turnaround.handlers.schedule import scheduled_time
from turnaround.observability import logger, metrics, tracer

container.warm(mention_poller, triage_model)  # in Lambda only: INIT has the full CPU


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(schedule_time=scheduled_time(event).isoformat())
    results = mention_poller().poll(time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    return {"handles": [result.model_dump(mode="json") for result in results]}
