"""Environment read into validated pydantic models, once per process and model."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from turnaround.exceptions import ConfigurationError

NonEmpty = Annotated[str, Field(min_length=1)]


def _split_handles(value: object) -> object:
    if isinstance(value, str):
        return [handle.strip().lstrip("@").lower() for handle in value.split(",") if handle.strip()]
    return value


# "AcmeAir, @ShopCo" -> ["acmeair", "shopco"]
HandleList = Annotated[list[str], BeforeValidator(_split_handles), Field(min_length=1)]


class _Settings(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)


class MailSettings(_Settings):
    # Outside prod (template parameter EmailOnlyTo): every email goes to this address instead.
    EMAIL_ONLY_TO: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None

    @field_validator("EMAIL_ONLY_TO", mode="before")
    @classmethod
    def _none_is_none(cls, value: object) -> object:
        return value or None


class XApiSettings(_Settings):
    # Only set for local runs and tests: production talks to X's own host.
    X_API_BASE_URL: str | None = None
    X_HTTP_TIMEOUT_SECONDS: Annotated[float, Field(gt=0, le=30)] = 10.0
    X_CREDENTIALS_SECRET_PREFIX: NonEmpty
    # Off: replies, DMs and retweets are logged instead of sent (a dev stage on the live handle).
    X_WRITES_ENABLED: bool = False

    @field_validator("X_API_BASE_URL", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None


class PollerSettings(XApiSettings):
    TABLE_NAME: NonEmpty
    MONITORED_HANDLES: HandleList
    X_MAX_RESULTS: Annotated[int, Field(ge=5, le=100)] = 100
    MENTION_RETENTION_DAYS: Annotated[int, Field(ge=1)] = 180
    # Extra passes in one invocation while mentions outrun a page per pass (keeps under X's 800 reach).
    MENTION_BURST_PASSES: Annotated[int, Field(ge=0, le=10)] = 3
    MENTION_BURST_INTERVAL_SECONDS: Annotated[float, Field(ge=1, le=60)] = 15.0
    # Our original posts are watched this long for quote-posts (0: quotes are not read).
    QUOTE_WATCH_DAYS: Annotated[int, Field(ge=0, le=30)] = 7
    PLAYBOOK_PATH: str | None = None
    BEDROCK_TRIAGE_MODEL_ID: str | None = None  # set: Bedrock triages, the local model is the fallback

    @field_validator("BEDROCK_TRIAGE_MODEL_ID", mode="before")
    @classmethod
    def _no_model_is_none(cls, value: object) -> object:
        return value or None


class DmPollerSettings(XApiSettings):
    TABLE_NAME: NonEmpty
    MONITORED_HANDLES: HandleList
    PLAYBOOK_PATH: str | None = None


class WorkflowSettings(XApiSettings):
    TABLE_NAME: NonEmpty
    ACTION_URL: NonEmpty
    ACTION_LINK_SECRET_NAME: NonEmpty
    PLAYBOOK_PATH: str | None = None
    REPLY_EMAIL_DOMAIN: str | None = None  # empty: emails carry no per-case Reply-To address
    REPLY_ADDRESS_TTL_DAYS: Annotated[int, Field(ge=1, le=365)] = 30  # as ReplyMailSettings

    @field_validator("REPLY_EMAIL_DOMAIN", mode="before")
    @classmethod
    def _no_domain_is_none(cls, value: object) -> object:
        return value or None


class DispatcherSettings(_Settings):
    STATE_MACHINE_ARN: NonEmpty
    PLAYBOOK_PATH: str | None = None


class DigestSettings(_Settings):
    TABLE_NAME: NonEmpty
    MONITORED_HANDLES: HandleList
    ACTION_URL: NonEmpty
    ACTION_LINK_SECRET_NAME: NonEmpty
    PLAYBOOK_PATH: str | None = None


class IncidentDigestSettings(_Settings):
    TABLE_NAME: NonEmpty
    MONITORED_HANDLES: HandleList
    ACTION_URL: NonEmpty  # each digest's "End this incident" link
    ACTION_LINK_SECRET_NAME: NonEmpty
    PLAYBOOK_PATH: str | None = None


class ActionPageSettings(_Settings):
    TABLE_NAME: NonEmpty
    ACTION_LINK_SECRET_NAME: NonEmpty
    PLAYBOOK_PATH: str | None = None
    ACTION_MAX_BODY_BYTES: Annotated[int, Field(ge=1024, le=1_048_576)] = 16_384


class ReplyMailSettings(_Settings):
    """The functions that read reps' emailed replies and email them the customer's DMs."""

    TABLE_NAME: NonEmpty
    ACTION_LINK_SECRET_NAME: NonEmpty
    REPLY_EMAIL_DOMAIN: NonEmpty
    PLAYBOOK_PATH: str | None = None
    REPLY_ADDRESS_TTL_DAYS: Annotated[int, Field(ge=1, le=365)] = 30


class InboundMailSettings(ReplyMailSettings, XApiSettings):
    INBOUND_MAIL_BUCKET: NonEmpty
    INBOUND_MAIL_PREFIX: str = "inbound/"
    # SES accepts up to 40 MB; a reply is a few KB of text, so larger mail is answered, not read.
    INBOUND_MAX_BYTES: Annotated[int, Field(ge=65_536, le=41_943_040)] = 10_485_760


SettingsT = TypeVar("SettingsT", bound=_Settings)


@cache
def get_settings(model: type[SettingsT]) -> SettingsT:
    """Validate os.environ into ``model``; a deploy mistake fails loudly at the first invocation."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        # Name the variables, never their values: os.environ holds AWS session credentials in Lambda.
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"invalid environment for {model.__name__}: {problems}") from None
