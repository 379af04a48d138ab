"""The optional Bedrock classifier, with stubbed Converse answers: used when sound, else the local model."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import ANY, Stubber

from turnaround.adapters.bedrock_triage import BedrockClassifier
from turnaround.logic.triage import triage

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SARCASM = "@acmeair loving the 3 hour tarmac tour, truly the highlight of my year"


def _answer(text: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 120, "outputTokens": 14, "totalTokens": 134},
        "metrics": {"latencyMs": 210},
    }


@pytest.fixture
def stubbed():
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        yield BedrockClassifier(MODEL, client=client), stub


def test_a_sound_answer_decides(stubbed):
    classifier, stub = stubbed
    stub.add_response(
        "converse",
        _answer('{"category": "complaint", "confidence": 0.93}'),
        {"modelId": MODEL, "system": ANY, "messages": ANY, "inferenceConfig": ANY},
    )
    result = triage(SARCASM, classifier=classifier)
    assert result.category == "complaint" and result.confidence == pytest.approx(0.93)
    assert any("Bedrock" in r for r in result.reasons) and result.severity is not None


@pytest.mark.parametrize(
    "failure",
    [
        {"service_error_code": "ThrottlingException", "http_status_code": 429},
        {"service_error_code": "ModelTimeoutException", "http_status_code": 408},
        {"service_error_code": "AccessDeniedException", "http_status_code": 403},
    ],
)
def test_bedrock_errors_fall_back_to_the_local_model(stubbed, failure):
    classifier, stub = stubbed
    stub.add_client_error("converse", **failure)
    local = triage(SARCASM)
    result = triage(SARCASM, classifier=classifier)
    assert (result.category, result.confidence) == (local.category, local.confidence)
    assert any("local model" in r for r in result.reasons)


@pytest.mark.parametrize(
    "text",
    ["Sure! This is a complaint.", '{"category": "angry", "confidence": 0.9}', '{"category": "complaint"}'],
)
def test_a_malformed_answer_falls_back(stubbed, text):
    classifier, stub = stubbed
    stub.add_response("converse", _answer(text))
    assert triage(SARCASM, classifier=classifier).confidence == triage(SARCASM).confidence


def test_a_timeout_falls_back():
    class TimesOut:
        def converse(self, **_: object) -> dict:
            raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")

    result = triage(SARCASM, classifier=BedrockClassifier(MODEL, client=TimesOut()))
    assert result.confidence == triage(SARCASM).confidence


def test_off_unless_a_model_id_is_configured(monkeypatch):
    from turnaround.settings import PollerSettings, get_settings

    base = {"TABLE_NAME": "t", "MONITORED_HANDLES": "acmeair", "X_CREDENTIALS_SECRET_PREFIX": "p/"}
    for key, value in base.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BEDROCK_TRIAGE_MODEL_ID", "")  # the template's default
    get_settings.cache_clear()
    assert get_settings(PollerSettings).BEDROCK_TRIAGE_MODEL_ID is None
    monkeypatch.setenv("BEDROCK_TRIAGE_MODEL_ID", MODEL)
    get_settings.cache_clear()
    assert get_settings(PollerSettings).BEDROCK_TRIAGE_MODEL_ID == MODEL
    get_settings.cache_clear()
