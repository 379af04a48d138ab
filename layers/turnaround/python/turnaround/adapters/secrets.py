"""X credentials from Secrets Manager through Powertools Parameters (cached, never logged)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from pydantic import ValidationError

from turnaround.adapters.x_api import XCredentials, credentials_from_secret
from turnaround.exceptions import ConfigurationError

CACHE_SECONDS = 300


class CredentialStore:
    def __init__(self, prefix: str, *, provider: SecretsProvider | None = None, boto3_client: Any = None):
        self.prefix = prefix
        self._provider = provider
        self._boto3_client = boto3_client

    @property
    def provider(self) -> SecretsProvider:
        if self._provider is None:
            self._provider = SecretsProvider(boto3_client=self._boto3_client)
        return self._provider

    def secret_name(self, handle: str) -> str:
        return f"{self.prefix}{handle}"

    def x_credentials(self, handle: str) -> XCredentials:
        name = self.secret_name(handle)
        try:
            value = self.provider.get(name, max_age=CACHE_SECONDS)
            return credentials_from_secret(value)  # type: ignore[arg-type]
        except GetParameterError as exc:
            raise ConfigurationError(f"secret {name} could not be read: {exc}") from exc
        except (ValidationError, ValueError):
            # `from None`: pydantic's message would quote the secret's values into logs.
            raise ConfigurationError(
                f"secret {name} is not X credentials JSON with consumer_key, "
                "consumer_secret, access_token and access_token_secret"
            ) from None
