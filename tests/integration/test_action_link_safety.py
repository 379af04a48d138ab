"""The action links survive a key rotation, and the page never strands a case or answers without its
security headers (moto's Secrets Manager and DynamoDB; the real handler)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.deploy.test_built_artifacts import _function_url_get
from turnaround.adapters import secrets
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import TaskTokenRejected
from turnaround.logic.rep_actions.desk import ActionDesk
from turnaround.logic.rep_actions.links import (
    ActionClaim,
    ActionLinkInvalid,
    ActionLinkKeys,
    ActionLinkSigner,
    ActionLinkUsed,
)
from turnaround.models.case import Escalation
from turnaround.models.playbook import load_playbook

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
SECURITY_HEADERS = {
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Strict-Transport-Security",
}


def _claim(escalation_id: str = "e1", case_id: str = "case-1") -> ActionClaim:
    return ActionClaim(
        escalation_id=escalation_id,
        case_id=case_id,
        action="resolved",
        expires_at=int((NOW + timedelta(days=2)).timestamp()),
    )


def test_links_outlive_one_rotation_of_the_secret_but_not_two(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        secrets, "CACHE_SECONDS", 0
    )  # every use re-reads, as a warm container does after 5 min
    client = boto3.client("secretsmanager")
    name = client.create_secret(Name="links", SecretString="a" * 64)["ARN"]
    signer = ActionLinkSigner(secrets.action_link_keys(name))
    before = signer.sign(_claim())

    client.put_secret_value(SecretId=name, SecretString="b" * 64)  # rotated: a is AWSPREVIOUS now
    after = signer.sign(_claim())
    assert before.split(".")[0] != after.split(".")[0]  # a new key id
    assert signer.verify(before, now=NOW) == signer.verify(after, now=NOW) == _claim()

    client.put_secret_value(SecretId=name, SecretString="c" * 64)  # rotated again: a is retired
    with pytest.raises(ActionLinkInvalid, match="retired"):
        signer.verify(before, now=NOW)
    assert signer.verify(after, now=NOW) == _claim()


def test_links_from_before_key_ids_still_verify_with_the_current_key() -> None:
    key = b"k" * 32
    legacy = ActionLinkSigner(key).sign(_claim()).split(".", 1)[1]  # <claim>.<mac> signed with kid: re-sign
    body = legacy.split(".")[0]
    import hashlib
    import hmac

    from turnaround.logic.rep_actions.links import _b64

    legacy_token = f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"
    assert ActionLinkSigner(ActionLinkKeys(key)).verify(legacy_token, now=NOW) == _claim()
    with pytest.raises(ActionLinkInvalid):
        ActionLinkSigner(ActionLinkKeys(b"z" * 32, previous=key)).verify(legacy_token, now=NOW)


class _FlakyWorkflow:
    """Step Functions answering SendTaskSuccess with a throttle the first time."""

    def __init__(self, first_error: Exception) -> None:
        self.first_error: Exception | None = first_error
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        if self.first_error:
            error, self.first_error = self.first_error, None
            raise error
        self.answers.append((token, output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self.answers.append((token, {"error": error}))


def _desk(store: Repositories, workflow: Any) -> tuple[ActionDesk, str]:
    signer = ActionLinkSigner(b"s" * 32)
    store.table.put_item(
        Item={
            "pk": "CASE#case-1", "sk": "CASE", "type": "case", "case_id": "case-1", "status": "OPEN",
            "handle": "acmeair", "root_tweet_id": "1", "conversation_id": "1", "customer_id": "9",
            "customer_username": "jane", "opened_at": NOW.isoformat(), "current_escalation_id": "e1",
        }
    )  # fmt: skip
    store.escalations.save(
        Escalation(
            escalation_id="e1", case_id="case-1", task_token="token-1", role="rep",
            recipient="rep@acmeair.example", created_at=NOW, expires_at=int(NOW.timestamp()) + 3600,
        )
    )  # fmt: skip
    desk = ActionDesk(
        store=store, signer=signer, workflow=workflow, playbook=load_playbook(), clock=lambda: NOW
    )
    return desk, signer.sign(_claim())


def test_a_link_is_never_used_up_without_the_workflow_hearing_of_it(store: Repositories) -> None:
    workflow = _FlakyWorkflow(RuntimeError("ThrottlingException from Step Functions"))
    desk, token = _desk(store, workflow)
    with pytest.raises(RuntimeError):
        desk.act(token, note="rebooked")
    escalation = store.escalations.get("e1")
    assert escalation is not None and escalation.used_at is None  # released: the link works again
    assert desk.act(token, note="rebooked") == "resolved"
    assert workflow.answers == [("token-1", {"action": "resolved", "note": "rebooked"})]
    with pytest.raises(ActionLinkUsed):
        desk.act(token, note="again")


def test_a_superseded_request_keeps_its_link_used(store: Repositories) -> None:
    desk, token = _desk(store, _FlakyWorkflow(TaskTokenRejected("task timed out")))
    with pytest.raises(TaskTokenRejected):
        desk.act(token, note="late")
    escalation = store.escalations.get("e1")
    assert escalation is not None and escalation.used_at


@pytest.fixture
def page(aws: None, table_name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    secret = boto3.client("secretsmanager").create_secret(Name="links", SecretString="s" * 64)["ARN"]
    monkeypatch.setenv("TABLE_NAME", table_name)
    monkeypatch.setenv("ACTION_LINK_SECRET_NAME", secret)
    from functions.action_page.app import lambda_handler

    return lambda event: lambda_handler(event, _Context())


class _Context:
    function_name = "action-page"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:action-page"
    aws_request_id = "r"


def _post(body: str) -> dict[str, Any]:
    event = _function_url_get("https://actions.example/", "?t=x")
    event["requestContext"]["http"]["method"] = "POST"
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    return {**event, "body": body, "queryStringParameters": None, "rawQueryString": ""}


@pytest.mark.parametrize(
    "body",
    ["&".join(f"f{i}=v" for i in range(11)), "t", "t=a&&note"],
    ids=["11 fields", "no =", "gap"],
)
def test_a_malformed_form_is_a_400_with_the_security_headers(page: Any, body: str) -> None:
    response = page(_post(body))
    assert response["statusCode"] == 400 and set(response["headers"]) >= SECURITY_HEADERS


def test_every_other_answer_carries_the_security_headers(page: Any) -> None:
    unknown = _function_url_get("https://actions.example/", "?t=x")
    unknown["rawPath"] = unknown["requestContext"]["http"]["path"] = "/admin"
    for event, status in (
        (unknown, 404),
        (_function_url_get("https://actions.example/", "?t=forged.sig"), 403),
    ):
        response = page(event)
        assert response["statusCode"] == status and set(response["headers"]) >= SECURITY_HEADERS, status
        assert "frame-ancestors 'none'" in response["headers"]["Content-Security-Policy"]
