"""Start exactly one workflow per new case, named after the case so a repeat start is a no-op."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.clock import utc_now
from turnaround.models.playbook import Playbook
from turnaround.observability import calls_not_traced, logger


def workflow_input(
    case_id: str,
    playbook: Playbook,
    *,
    opened_at: datetime | None = None,
    priority: int = 4,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Timings travel in the input so Wait and heartbeat states read them (and tests can shrink them)."""
    return {
        "case_id": case_id,
        "timing": {
            "first_rep_response_seconds": first_rep_response_seconds(
                playbook, opened_at=opened_at, priority=priority, now=now or utc_now()
            ),
            "rep_response_seconds": playbook.sla.rep_response_for(priority),
            "supervisor_response_seconds": playbook.sla.supervisor_response_seconds,
            "supervisor_reminder_cap": playbook.sla.supervisor_reminder_cap,
            "follow_up_delay_seconds": playbook.follow_up.delay_seconds,
            "follow_up_window_seconds": playbook.follow_up.window_seconds,
            "action_link_ttl_seconds": playbook.sla.action_link_ttl_seconds,
        },
    }


def first_rep_response_seconds(
    playbook: Playbook, *, opened_at: datetime | None, priority: int, now: datetime
) -> int:
    """The first wait for the rep: the SLA, or, for a case that came in outside support hours, until
    the team opens plus the SLA (nobody is reminded at night). An urgent case goes to the on-call
    person instead, on the urgent SLA (sla.urgent_rep_response_seconds, if set)."""
    sla = playbook.sla.rep_response_for(priority)
    opening = playbook.sla_starts_at_opening(priority, opened_at or now)
    if opening is None:
        return sla
    return sla + max(0, int((opening - now).total_seconds()))


def start_for_new_case(record: DynamoDBRecord, *, workflow: WorkflowClient, playbook: Playbook) -> str | None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if (
        record.event_name is None
        or record.event_name.name != "INSERT"
        or not image
        or image.get("type") != "case"
    ):
        return None  # only a case's first write starts its workflow
    case_id = str(image["case_id"])
    opened_at = datetime.fromisoformat(str(image["opened_at"])) if image.get("opened_at") else None
    timing = workflow_input(case_id, playbook, opened_at=opened_at, priority=int(image.get("priority", 4)))
    with calls_not_traced():  # one start per case: X-Ray has the invocation's own segment for the batch
        arn = workflow.start(case_id, timing)
    # Step Functions lists every execution by case id; a line per case costs about as much CPU as
    # the start itself, so it is written when the invocation's logs are sampled at DEBUG.
    logger.debug("workflow started", extra={"case_id": case_id, "execution_arn": arn})
    return arn
