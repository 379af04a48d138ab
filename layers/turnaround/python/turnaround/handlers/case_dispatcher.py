"""CaseDispatcherFunction's wiring: one workflow execution per new case (logic/workflow/dispatch)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from turnaround.handlers import container
from turnaround.logic.workflow.dispatch import start_for_new_case
from turnaround.settings import DispatcherSettings, get_settings


@container.per_container
def record_handler() -> Callable[[DynamoDBRecord], str | None]:
    settings = get_settings(DispatcherSettings)
    container.every_call_uses("stepfunctions")  # each invocation starts executions
    return partial(
        start_for_new_case,
        workflow=container.workflow_client(settings.STATE_MACHINE_ARN),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
    )
