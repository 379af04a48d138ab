"""An optional second classifier on Amazon Bedrock (Converse API), off unless a model id is set.

It answers the same question as the local model: complaint, unsure, praise, question, spam or other,
with a confidence. It never writes reply text (X requires approval for AI-written replies; replies
come from the playbook). On a timeout, throttling, any Bedrock error or an answer that is not the
expected JSON it returns None: triage falls back to the local model and ``BedrockTriageFallback``
is counted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from turnaround.observability import logger, metrics

Verdict = Literal["complaint", "unsure", "praise", "question", "spam", "other"]

SYSTEM = (
    "You triage posts that customers address to a brand's support handle on X. Decide whether the "
    "post is a complaint the brand should open a case for. Sarcasm ('great job losing my bag') is a "
    "complaint; thanks for a problem already solved is praise. Answer with JSON only, no prose: "
    '{"category": "complaint" | "unsure" | "praise" | "question" | "spam" | "other", '
    '"confidence": <0..1, how sure you are that it is a complaint>}. Use "unsure" when a person '
    "should decide. Never write a reply."
)
_JSON = re.compile(r"\{.*\}", re.DOTALL)


class BedrockAnswer(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    category: Verdict
    confidence: float = Field(ge=0, le=1)


@dataclass
class BedrockClassifier:
    model_id: str
    client: Any = None
    timeout_seconds: float = 3.0
    max_tokens: int = 60

    @property
    def bedrock(self) -> Any:
        if self.client is None:
            from botocore.config import Config

            from turnaround.adapters import aws

            self.client = aws.configured_client(
                "bedrock-runtime",
                config=Config(
                    read_timeout=self.timeout_seconds,
                    connect_timeout=self.timeout_seconds,
                    retries={"max_attempts": 1},
                ),
            )
        return self.client

    def __call__(self, text: str, lang: str | None = None) -> BedrockAnswer | None:
        try:
            response = self.bedrock.converse(
                modelId=self.model_id,
                system=[{"text": SYSTEM}],
                messages=[{"role": "user", "content": [{"text": f"lang={lang or 'unknown'}\npost: {text}"}]}],
                inferenceConfig={"maxTokens": self.max_tokens, "temperature": 0},
            )
            reply = "".join(
                part.get("text", "") for part in response["output"]["message"]["content"] if "text" in part
            )
            match = _JSON.search(reply)
            if match is None:
                raise ValueError(f"no JSON in the answer: {reply[:80]!r}")
            return BedrockAnswer.model_validate(json.loads(match.group(0)))
        except Exception as exc:  # any failure: the local model decides; counted, never fatal
            response = getattr(exc, "response", None) or {}
            code = response.get("Error", {}).get("Code") or type(exc).__name__
            logger.warning("Bedrock triage fell back to the local model", extra={"error": code})
            metrics.add_metric(name="BedrockTriageFallback", unit=MetricUnit.Count, value=1)
            return None
