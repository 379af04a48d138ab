"""What the functions share, built once per container on one boto3 session (``adapters.aws``).

Everything is made on first use, never at import, and kept while Lambda keeps the container: the
DynamoDB table, the Step Functions, SES and Secrets Manager clients, the secrets provider (whose cache
then outlives an invocation: a secret is re-read at most every ``CACHE_SECONDS``), the X client of
each handle and the validated playbook. ``reset()`` forgets it all (tests; the embedded cloud when
it deploys again). Tests that want fakes build the logic objects themselves: every builder here only
supplies defaults.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from turnaround.adapters import aws
from turnaround.handlers import lambda_init
from turnaround.models.playbook import Playbook, load_playbook

# Each builder imports what it builds: a function loads only the adapters it uses.
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from turnaround.adapters.mailer import Mailer
    from turnaround.adapters.workflow_client import WorkflowClient
    from turnaround.adapters.x_api import XApi
    from turnaround.dal.repositories import Repositories
    from turnaround.models.keys import ActionLinkKeys
    from turnaround.settings import XApiSettings

P = ParamSpec("P")
R = TypeVar("R")
_per_container: list[Any] = []


def per_container(build: Callable[P, R]) -> Callable[P, R]:
    """``functools.cache``, registered so that ``reset()`` forgets what it built."""
    cached = cache(build)
    _per_container.append(cached)
    return cached  # type: ignore[return-value]


def reset() -> None:
    for cached in _per_container:
        cached.cache_clear()
    load_playbook.cache_clear()
    aws.reset()


def warm(*builders: Callable[[], object]) -> None:
    """In Lambda, build at INIT what every invocation needs: INIT runs at full CPU, an invocation gets
    CPU in proportion to memory (0.29 vCPU at 512 MB). Builders make objects, never calls to AWS or X.
    Outside Lambda (tests, the embedded cloud) nothing happens at import. A builder that fails here
    (a deploy mistake in the environment) is not cached: the first invocation builds it again and
    fails with its error, as it would without this. Last, INIT's garbage-collector pause ends
    (``lambda_init``)."""
    if not os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"):
        return
    try:
        for build in builders:
            try:
                build()
            except Exception as exc:  # re-raised by the first invocation's own build
                from turnaround.observability import logger

                logger.warning(
                    "not built at init", extra={"builder": build.__name__, "error": type(exc).__name__}
                )
    finally:
        lambda_init.end()


def _secrets_provider() -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws.client("secretsmanager"))


@per_container
def secrets() -> SecretsProvider:
    """The container's Secrets Manager provider (Powertools caches each value for its max_age)."""
    return _secrets_provider()


@per_container
def link_keys(secret_name: str) -> Callable[[], ActionLinkKeys]:
    """The action-link keys, AWSCURRENT and AWSPREVIOUS, each re-read after CACHE_SECONDS (a second
    provider: Powertools caches by name whatever the version stage). Nothing is read, and no client
    made, until a link is first signed or checked: wiring runs at INIT, which calls no AWS API, and
    most invocations (a workflow task that emails nobody, an empty digest) sign no link."""
    return lambda: _link_key_reader(secret_name)()


@per_container
def _link_key_reader(secret_name: str) -> Callable[[], ActionLinkKeys]:
    from turnaround.adapters.secrets import action_link_keys

    return action_link_keys(secret_name, current=secrets(), previous=_secrets_provider())


def link_secret(secret_name: str) -> bytes:
    from turnaround.adapters.secrets import action_link_secret

    return action_link_secret(secret_name, provider=secrets())


@per_container
def store(table_name: str) -> Repositories:
    from turnaround.dal.repositories import Repositories

    return Repositories(table_name, table=aws.table(table_name), client=aws.client("dynamodb"))


# SES's and Step Functions' clients are made at their first call, not with the mailer or the workflow
# client: most workflow tasks (the acknowledgement among them) email nobody and answer no task token,
# and a digest with nothing in it sends nothing. A function that calls them on every invocation makes
# them at INIT itself (``every_call_uses``).
@per_container
def mailer() -> Mailer:
    from turnaround.adapters.mailer import Mailer  # the stdlib email modules: only where mail is sent
    from turnaround.settings import MailSettings, get_settings

    return Mailer(make_client=partial(aws.client, "ses"), only_to=get_settings(MailSettings).EMAIL_ONLY_TO)


@per_container
def workflow_client(state_machine_arn: str | None = None) -> WorkflowClient:
    from turnaround.adapters.workflow_client import WorkflowClient

    return WorkflowClient(state_machine_arn, make_client=partial(aws.client, "stepfunctions"))


def every_call_uses(*services: str) -> None:
    """Make these AWS clients now: called by a builder at INIT (full CPU) for the clients every
    invocation of its function calls."""
    for service in services:
        aws.client(service)


def playbook(path: str | None) -> Playbook:
    return load_playbook(path)  # validated once per container (load_playbook caches it)


def x_for(settings: XApiSettings) -> Callable[[str], XApi]:
    return _x_for(
        settings.X_CREDENTIALS_SECRET_PREFIX,
        settings.X_API_BASE_URL,
        settings.X_HTTP_TIMEOUT_SECONDS,
        settings.X_WRITES_ENABLED,
    )


@per_container
def _x_for(prefix: str, base_url: str | None, timeout: float, writes_enabled: bool) -> Callable[[str], XApi]:
    """One X client per handle per container (its HTTPS connection kept), rebuilt when the handle's
    credentials change: they are re-read from Secrets Manager at most every CACHE_SECONDS."""
    from turnaround.adapters.secrets import CredentialStore
    from turnaround.adapters.x_api import XApi

    credentials = CredentialStore(prefix, provider=secrets())
    apis: dict[str, XApi] = {}
    lock = threading.Lock()

    def x_for(handle: str) -> XApi:
        current = credentials.x_credentials(handle)
        with lock:
            api = apis.get(handle)
            if api is None or api.credentials != current:
                api = apis[handle] = XApi(
                    current, base_url=base_url, timeout=timeout, writes_enabled=writes_enabled
                )
            return api

    return x_for
