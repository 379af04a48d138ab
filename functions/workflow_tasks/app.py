"""Runs one task of the complaint workflow; the state machine says which in ``task``.

Domain exceptions propagate: their class names are the errors the ASL's Retry and Catch match.
"""

from __future__ import annotations

# First, before anything else loads: in Lambda, no garbage collection during INIT (lambda_init).
import turnaround.handlers.lambda_init  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.handlers import container
from turnaround.handlers.workflow_tasks import parse_task, run_task, workflow
from turnaround.observability import logger, metrics, tracer

container.warm(workflow)  # in Lambda only: INIT has the full CPU


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_task(event)
    logger.append_keys(case_id=task.case_id, task=task.task)
    return run_task(task, workflow())
