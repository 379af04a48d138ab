"""Scheduled: while an incident lasts, the supervisor's digest once per digest interval, even when
no case joins; when it has been quiet long enough, its closing summary (logic/incidents.py)."""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.incident_digest import incident_desk, tend_incidents
from turnaround.handlers.schedule import scheduled_time
from turnaround.observability import logger, metrics, tracer

container.warm(incident_desk)  # in Lambda only: INIT has the full CPU


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled_time(event)
    return {"incidents": tend_incidents()}
