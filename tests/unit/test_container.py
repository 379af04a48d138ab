"""The composition root builds each shared thing once per container on one boto3 session, and still
lets rotated credentials in (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from turnaround.adapters import aws
from turnaround.handlers import container

SECRET = {"consumer_key": "ck", "consumer_secret": "cs", "access_token": "at", "access_token_secret": "as"}


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    container.reset()
    yield
    container.reset()


def test_one_session_per_container_and_each_client_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions: list[Any] = []
    real = boto3.session.Session

    def counted(*args: Any, **kwargs: Any) -> Any:
        sessions.append(real(*args, **kwargs))
        return sessions[-1]

    monkeypatch.setattr(boto3.session, "Session", counted)
    for _ in range(2):  # two invocations of a warm container
        store = container.store("table")
        workflow = container.workflow_client()
        mailer = container.mailer()
        provider = container.secrets()
        keys = container.link_keys("links")
    assert len(sessions) == 1
    assert store is container.store("table") and store.table.name == "table"
    assert workflow.client is aws.client("stepfunctions") is container.workflow_client("arn").client
    assert mailer.client is aws.client("ses")
    assert provider.client is aws.client("secretsmanager")
    assert keys is container.link_keys("links")
    assert container.store("other") is not store

    container.reset()  # a new deployment in the embedded cloud: all of it is made again
    assert container.store("table") is not store and len(sessions) == 2


def test_ses_and_step_functions_clients_are_made_at_their_first_call_unless_every_call_uses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most workflow tasks (the acknowledgement among them) email nobody and answer no task token:
    their INIT makes neither client. The dispatcher starts executions on every invocation, so its
    builder makes that client at INIT."""
    from turnaround.handlers import case_dispatcher

    mailer, workflow = container.mailer(), container.workflow_client()
    assert not {"ses", "stepfunctions"} & set(aws._clients)
    assert mailer.client is aws.client("ses") and workflow.client is aws.client("stepfunctions")

    from turnaround.settings import get_settings

    container.reset()
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:t")
    get_settings.cache_clear()
    try:
        case_dispatcher.record_handler()
    finally:
        get_settings.cache_clear()
    assert "stepfunctions" in aws._clients


class RotatingSecret:
    """Stands in for the Powertools provider: the value a (cache-expired) read would return now."""

    def __init__(self) -> None:
        self.value = dict(SECRET)
        self.reads: list[str] = []

    def get(self, name: str, **options: Any) -> str:
        self.reads.append(name)
        return json.dumps(self.value)


def test_an_x_client_per_handle_is_kept_until_its_credentials_rotate(monkeypatch: pytest.MonkeyPatch) -> None:
    from turnaround.settings import XApiSettings

    secret = RotatingSecret()
    monkeypatch.setattr(container, "secrets", lambda: secret)
    settings = XApiSettings(X_CREDENTIALS_SECRET_PREFIX="x/", X_WRITES_ENABLED=True)
    x_for = container.x_for(settings)
    assert container.x_for(settings) is x_for

    first = x_for("acme")
    assert x_for("acme") is first and x_for("other") is not first
    assert secret.reads == ["x/acme", "x/acme", "x/other"]  # read each time, from the provider's cache

    secret.value["access_token"] = "rotated"
    rotated = x_for("acme")
    assert rotated is not first
    assert rotated.credentials is not None
    assert rotated.credentials.access_token.get_secret_value() == "rotated"
    assert x_for("acme") is rotated


class LinkSecret:
    """Stands in for the Powertools provider of the action-link secret (never rotated)."""

    def __init__(self, value: str = "s" * 32) -> None:
        self.value = value
        self.reads: list[str] = []

    def get(self, name: str, **options: Any) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        stage = options.get("VersionStage", "AWSCURRENT")
        self.reads.append(f"{name}:{stage}")
        if stage == "AWSPREVIOUS":
            raise GetParameterError("no previous version")
        return self.value


def test_wiring_reads_no_link_secret_until_a_link_or_reply_address_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The builders run at INIT in Lambda, which makes no AWS call, and most invocations (a workflow
    task that emails nobody, an empty digest, a stream record that is no DM) sign nothing: the
    secret is read on first use, then as before (Powertools' cache)."""
    from datetime import UTC, datetime
    from functools import partial

    from turnaround.logic.rep_actions.links import ActionLinkInvalid, ActionLinkSigner
    from turnaround.logic.rep_actions.review import ReviewLinkSigner
    from turnaround.logic.reply_mail.reply_address import ReplyAddressSigner

    secret = LinkSecret()
    monkeypatch.setattr(container, "secrets", lambda: secret)
    monkeypatch.setattr(container, "_secrets_provider", lambda: secret)
    links = ActionLinkSigner(container.link_keys("links"))
    ReviewLinkSigner(container.link_keys("links"))
    replies = ReplyAddressSigner(partial(container.link_secret, "links"), "reply.acme.example")
    assert secret.reads == []

    with pytest.raises(ActionLinkInvalid):
        links.verify("forged.c2lnbmF0dXJl", now=datetime(2026, 11, 23, tzinfo=UTC))
    assert secret.reads == ["links:AWSCURRENT", "links:AWSPREVIOUS"]
    address = replies.address("case-1", recipient="alex@acme.example", expires_at=2_000_000_000)
    assert replies.verify(address, now=datetime(2026, 11, 23, tzinfo=UTC)).case_id == "case-1"
    assert secret.reads[2:] == ["links:AWSCURRENT"]  # once: the desk keeps the key it derived

    short = ReplyAddressSigner(lambda: b"short", "reply.acme.example")  # still refused, at first use
    with pytest.raises(ValueError, match="at least 32 bytes"):
        short.address("case-1", recipient="alex@acme.example", expires_at=2_000_000_000)


def _import_in_lambda(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(root / "layers/turnaround/python"), str(root)]),
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_TRACE_DISABLED="true",
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",  # what Lambda sets for INIT
        **environment,
    )
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)


POLLER_ENV = {
    "TABLE_NAME": "mentions",
    "MONITORED_HANDLES": "acmeair",
    "X_CREDENTIALS_SECRET_PREFIX": "x/",
    "PLAYBOOK_PATH": str(Path(__file__).resolve().parents[2] / "infrastructure/playbook.yaml"),
}


def test_in_lambda_what_every_poll_needs_is_built_at_init() -> None:
    code = (
        "import functions.mention_poller.app, sys\n"
        "from turnaround.adapters import aws\n"
        "from turnaround.handlers.mention_poller import mention_poller\n"
        "assert aws._session is not None and mention_poller.cache_info().currsize == 1\n"
        "from turnaround.logic.triage_model import load_model\n"
        "assert load_model.cache_info().currsize == 1\n"
    )
    result = _import_in_lambda(code, **POLLER_ENV)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_deploy_mistake_is_still_the_first_invocations_error() -> None:
    code = (
        "import functions.mention_poller.app as app\n"
        "from turnaround.exceptions import ConfigurationError\n"
        "try:\n"
        "    app.mention_poller()\n"
        "except ConfigurationError as exc:\n"
        "    print('raised', exc)\n"
    )
    result = _import_in_lambda(code, **{**POLLER_ENV, "MONITORED_HANDLES": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "raised invalid environment for PollerSettings: MONITORED_HANDLES" in result.stdout
    assert "not built at init" in result.stdout  # the INIT log line, with the builder's name


def test_the_workflow_signs_reply_addresses_with_the_mail_functions_desk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Was a second ReplyDesk that dropped REPLY_ADDRESS_TTL_DAYS: addresses in case emails expired
    after the default 30 days whatever the stack said."""
    from datetime import timedelta

    from turnaround.handlers import workflow_tasks
    from turnaround.settings import WorkflowSettings

    monkeypatch.setattr(container, "link_secret", lambda name: b"s" * 32)
    settings = WorkflowSettings.model_validate(
        {
            "TABLE_NAME": "table",
            "ACTION_URL": "https://links.example/",
            "ACTION_LINK_SECRET_NAME": "links",
            "X_CREDENTIALS_SECRET_PREFIX": "turnaround/test/x-credentials/",
            "REPLY_EMAIL_DOMAIN": "reply.acmeair.example",
            "REPLY_ADDRESS_TTL_DAYS": 7,
        }
    )
    desk = workflow_tasks._replies(settings, lambda handle: None)  # type: ignore[arg-type,return-value]
    assert desk is not None and desk.address_ttl == timedelta(days=7)
    assert desk.signer.domain == "reply.acmeair.example"
    assert workflow_tasks._replies(settings.model_copy(update={"REPLY_EMAIL_DOMAIN": None}), print) is None  # type: ignore[arg-type]
