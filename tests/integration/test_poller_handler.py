"""The mention poller Lambda handler, invoked in-process with the template's environment contract."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from functions.mention_poller.app import lambda_handler
from tests.conftest import BRAND
from tests.helpers import load_template, resource
from tests.lambda_context import FakeLambdaContext
from turnaround.exceptions import ConfigurationError, NotAScheduledEvent, XCreditsExhausted
from turnaround.settings import PollerSettings

EVENT = json.loads((Path(__file__).parent.parent / "events" / "scheduled_poll.json").read_text())


def test_scheduled_event_polls_with_secret_credentials(poller_env, emulator, clock, table_name, capsys):
    emulator.add_user("jane", followers=90)
    post = emulator.add_post("jane", "@acmeair my order is late, tracking hasn't moved since Monday")
    clock.advance(1)

    result = lambda_handler(EVENT, FakeLambdaContext())

    assert result["handles"][0]["stored"] == 1 and result["handles"][0]["cases_opened"] == 1
    item = (
        boto3.resource("dynamodb")
        .Table(table_name)
        .get_item(Key={"pk": f"MENTION#{post.id}", "sk": "MENTION"})["Item"]
    )
    assert item["triage"]["category"] == "complaint"
    output = capsys.readouterr().out
    assert '"MentionsIngested"' in output  # EMF metrics flushed by log_metrics
    assert "acme-token-secret" not in output and "emulator-consumer-secret" not in output


def test_environment_the_handler_needs_is_what_the_template_gives(poller_env):
    declared = set(resource("MentionPollerFunction")["Properties"]["Environment"]["Variables"])
    declared |= set(load_template()["Globals"]["Function"]["Environment"]["Variables"])
    required = {name for name, field in PollerSettings.model_fields.items() if field.is_required()}
    assert required <= declared
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"} <= declared


def test_missing_environment_is_a_configuration_error_that_echoes_no_values(poller_env, monkeypatch):
    monkeypatch.delenv("MONITORED_HANDLES")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "SESSION-SECRET")
    with pytest.raises(ConfigurationError, match="MONITORED_HANDLES: Field required") as exc:
        lambda_handler(EVENT, FakeLambdaContext())
    assert "SESSION-SECRET" not in str(exc.value) and exc.value.__cause__ is None


def test_event_that_is_not_a_schedule_is_rejected(poller_env):
    with pytest.raises(NotAScheduledEvent, match="no version, id, detail-type"):
        lambda_handler({"hello": "world"}, FakeLambdaContext())


def test_missing_secret_is_a_configuration_error(poller_env, monkeypatch):
    monkeypatch.setenv("MONITORED_HANDLES", f"{BRAND},otherbrand")
    from turnaround.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="otherbrand"):
        lambda_handler(EVENT, FakeLambdaContext())


def test_secret_with_wrong_shape_never_echoes_its_values(poller_env, brand_secret):
    boto3.client("secretsmanager").put_secret_value(
        SecretId=brand_secret, SecretString=json.dumps({"consumer_key": "SHHH-VALUE"})
    )
    with pytest.raises(ConfigurationError) as exc:
        lambda_handler(EVENT, FakeLambdaContext())
    assert "SHHH-VALUE" not in str(exc.value) and exc.value.__cause__ is None


def test_402_fails_the_invocation_and_emits_the_budget_metric(poller_env, emulator, capsys):
    emulator.inject_fault("mentions", "payment_required")
    with pytest.raises(XCreditsExhausted):
        lambda_handler(EVENT, FakeLambdaContext())
    assert '"XBudgetExhausted"' in capsys.readouterr().out
