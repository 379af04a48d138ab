"""Typed inputs of the workflow's Lambda tasks, and the wiring that runs them."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from turnaround.exceptions import UnknownTaskInputVersion
from turnaround.handlers import container
from turnaround.logic.rep_actions.links import ActionLinkSigner
from turnaround.logic.workflow.case_workflow import CaseWorkflow
from turnaround.settings import WorkflowSettings, get_settings

if TYPE_CHECKING:
    from turnaround.adapters.x_api import XApi
    from turnaround.logic.reply_mail.reply_desk import ReplyDesk

# The shapes of task input this code reads (`input_version` in each payload of the ASL). Payloads
# from executions started before inputs were versioned carry none: they are version 1.
INPUT_VERSION = 1
READS_INPUT_VERSIONS = frozenset({1})


class _Task(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    case_id: Annotated[str, Field(pattern=r"^case-[0-9]{1,19}$")]
    input_version: Literal[1] = 1


class Assign(_Task):
    task: Literal["assign"]


class Acknowledge(_Task):
    task: Literal["acknowledge"]


class Notify(_Task):
    task: Literal["notify"]
    task_token: Annotated[str, Field(min_length=1, max_length=4096)]
    role: Literal["rep", "supervisor"] = "rep"
    reminder: bool = False
    reminder_number: Annotated[int, Field(ge=0, le=100)] = 0  # the supervisor reminder's number
    final: bool = False  # the last notice after the reminder cap: ops are copied


class AlertOps(_Task):
    task: Literal["alert_ops"]
    error: dict[str, Any]


class AckNotPosted(_Task):
    task: Literal["ack_not_posted"]
    error: dict[str, Any]


class RecordDecision(_Task):
    task: Literal["record_decision"]
    decision: dict[str, Any]


class AskFollowUp(_Task):
    task: Literal["ask_follow_up"]


class AwaitFollowUp(_Task):
    task: Literal["await_follow_up"]
    task_token: Annotated[str, Field(min_length=1, max_length=4096)]


class Amplify(_Task):
    task: Literal["amplify"]
    post: dict[str, Any]
    confirmed: bool = False  # the rep answered "Retweet this?" with yes


class AskRepToAmplify(_Task):
    task: Literal["ask_rep_to_amplify"]
    post: dict[str, Any]
    task_token: Annotated[str, Field(min_length=1, max_length=4096)]


class Close(_Task):
    task: Literal["close"]
    outcome: Annotated[str, Field(min_length=1, max_length=64)]


WorkflowTask = Annotated[
    Assign
    | Acknowledge
    | Notify
    | AlertOps
    | AckNotPosted
    | RecordDecision
    | AskFollowUp
    | AwaitFollowUp
    | Amplify
    | AskRepToAmplify
    | Close,
    Field(discriminator="task"),
]
_MODELS: tuple[type[_Task], ...] = (
    Assign,
    Acknowledge,
    Notify,
    AlertOps,
    AckNotPosted,
    RecordDecision,
    AskFollowUp,
    AwaitFollowUp,
    Amplify,
    AskRepToAmplify,
    Close,
)
# Each task's model by its ``task`` value: an invocation builds the validator of the one task it runs
# (~1 ms), not of all eleven (~10 ms of a cold start, built layers with CPython 3.12).
BY_TASK: dict[str, type[_Task]] = {
    get_args(model.model_fields["task"].annotation)[0]: model for model in _MODELS
}


@cache
def _any_task() -> TypeAdapter[WorkflowTask]:
    """The discriminated union: it names an unknown or missing ``task`` as pydantic does."""
    return TypeAdapter(WorkflowTask)


def parse_task(event: dict[str, Any]) -> WorkflowTask:
    """The task the state machine sent; an input version this code does not read is named as such,
    before validation (whose error would quote the payload, task token included)."""
    version = event.get("input_version", 1)
    if isinstance(version, bool) or version not in READS_INPUT_VERSIONS:
        raise UnknownTaskInputVersion(
            f"task input_version {version!r} is not one this function version reads "
            f"({sorted(READS_INPUT_VERSIONS)}); the state machine pins a function version that does"
        )
    name = event.get("task")
    model = BY_TASK.get(name) if isinstance(name, str) else None
    if model is None:
        return _any_task().validate_python(event)
    return model.model_validate(event)  # type: ignore[return-value]


def run_task(task: WorkflowTask, workflow: CaseWorkflow) -> dict[str, Any]:
    match task:
        case Assign():
            return workflow.assign(task.case_id)
        case Acknowledge():
            return workflow.acknowledge(task.case_id)
        case Notify():
            return workflow.notify(
                task.case_id,
                task.task_token,
                task.role,
                task.reminder,
                reminder_number=task.reminder_number,
                final=task.final,
            )
        case AlertOps():
            return workflow.alert_ops(task.case_id, task.error)
        case AckNotPosted():
            return workflow.ack_not_posted(task.case_id, task.error)
        case RecordDecision():
            return workflow.record_decision(task.case_id, task.decision)
        case AskFollowUp():
            return workflow.ask_follow_up(task.case_id)
        case AwaitFollowUp():
            return workflow.await_follow_up(task.case_id, task.task_token)
        case Amplify():
            return workflow.amplify(task.case_id, task.post, task.confirmed)
        case AskRepToAmplify():
            return workflow.ask_rep_to_amplify(task.case_id, task.post, task.task_token)
        case Close():
            return workflow.close(task.case_id, task.outcome)


@container.per_container
def build_case_workflow(settings: WorkflowSettings) -> CaseWorkflow:
    """Default collaborators for Lambda, created once per container on its one boto3 session."""
    x_for = container.x_for(settings)
    return CaseWorkflow(
        store=container.store(settings.TABLE_NAME),
        x_for=x_for,
        mailer=container.mailer(),
        signer=ActionLinkSigner(container.link_keys(settings.ACTION_LINK_SECRET_NAME)),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
        action_url=settings.ACTION_URL,
        workflow=container.workflow_client(),
        replies=_replies(settings, x_for),  # None unless REPLY_EMAIL_DOMAIN is set
    )


def _replies(settings: WorkflowSettings, x_for: Callable[[str], XApi]) -> ReplyDesk | None:
    """What the workflow's emails need for replies (Reply-To, thread, conversation), if enabled:
    the same desk the mail functions build, so a reply address lives as long wherever it is made."""
    if not settings.REPLY_EMAIL_DOMAIN:
        return None
    from turnaround.handlers.reply_mail import reply_desk

    return reply_desk(settings, x_for)


def workflow() -> CaseWorkflow:
    return build_case_workflow(get_settings(WorkflowSettings))
