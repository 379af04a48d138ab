"""The composition root builds each shared thing once per container on one boto3 session, and still
lets rotated credentials in (issue 17)."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
