"""Typed inputs of the workflow's Lambda tasks, and the wiring that runs them."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from turnaround.adapters.mailer import Mailer
from turnaround.adapters.secrets import CredentialStore, action_link_keys
from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.adapters.x_api import XApi
from turnaround.dal.store import MentionStore
from turnaround.logic.rep_actions.links import ActionLinkSigner
from turnaround.logic.reply_mail.reply_desk import replies_for_workflow
from turnaround.logic.workflow.case_workflow import CaseWorkflow
from turnaround.models.playbook import load_playbook
from turnaround.settings import WorkflowSettings


class _Task(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    case_id: Annotated[str, Field(pattern=r"^case-[0-9]{1,19}$")]


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


class Close(_Task):
    task: Literal["close"]
    outcome: Annotated[str, Field(min_length=1, max_length=64)]


WorkflowTask = Annotated[
    Acknowledge
    | Notify
    | AlertOps
    | AckNotPosted
    | RecordDecision
    | AskFollowUp
    | AwaitFollowUp
    | Amplify
    | Close,
    Field(discriminator="task"),
]
TASK: TypeAdapter[WorkflowTask] = TypeAdapter(WorkflowTask)


def run_task(task: WorkflowTask, workflow: CaseWorkflow) -> dict[str, Any]:
    match task:
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
            return workflow.amplify(task.case_id, task.post)
        case Close():
            return workflow.close(task.case_id, task.outcome)


@cache
def build_case_workflow(settings: WorkflowSettings) -> CaseWorkflow:
    """Default collaborators for Lambda, created once per container (clients stay lazy)."""
    credentials = CredentialStore(settings.X_CREDENTIALS_SECRET_PREFIX)
    apis: dict[str, XApi] = {}

    def x_for(handle: str) -> XApi:
        if handle not in apis:
            apis[handle] = XApi(
                credentials.x_credentials(handle),
                base_url=settings.X_API_BASE_URL,
                timeout=settings.X_HTTP_TIMEOUT_SECONDS,
                writes_enabled=settings.X_WRITES_ENABLED,
            )
        return apis[handle]

    return CaseWorkflow(
        store=MentionStore(settings.TABLE_NAME),
        x_for=x_for,
        mailer=Mailer(),
        signer=ActionLinkSigner(action_link_keys(settings.ACTION_LINK_SECRET_NAME)),
        playbook=load_playbook(settings.PLAYBOOK_PATH),
        action_url=settings.ACTION_URL,
        workflow=WorkflowClient(),
        replies=replies_for_workflow(settings, x_for),  # None unless REPLY_EMAIL_DOMAIN is set
    )
