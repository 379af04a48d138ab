"""One boto3 session per container, and each AWS client or resource made on it once.

A boto3 ``Session`` costs ~40 ms of CPU to build (endpoint data, service models) and a client on it
~1-2 ms; Lambda keeps the container between invocations, so both are made on first use and reused
(with their HTTPS connections). Nothing is built at import. Creation takes a lock: boto3 sessions are
not thread-safe, the clients they make are. ``reset()`` forgets everything (tests, the embedded
cloud's new deployment).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore
from botocore.config import Config

from turnaround.adapters.aws_models import botocore_session


def _user_agent() -> str:
    """Botocore's User-Agent, fixed once per container. Left to itself, botocore builds the header
    twice per request (~80 µs of CPU a call) only to list the SDK features the call used, which
    is AWS's telemetry; a fixed string (``Config.user_agent``) is sent as it is."""
    python = ".".join(map(str, sys.version_info[:3]))
    environment = os.environ.get("AWS_EXECUTION_ENV", "unknown")
    return (
        f"Boto3/{boto3.__version__} md/Botocore#{botocore.__version__} ua/2.1 os/{sys.platform} "
        f"lang/python#{python} exec-env/{environment} app/turnaround"
    )


# Our requests are built by code, not typed by people, and AWS validates them again: botocore's
# client-side check of every parameter is ~20% of a DynamoDB call's CPU, so it is off.
FAST = Config(parameter_validation=False, user_agent=_user_agent())
_lock = threading.RLock()
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}
_resources: dict[str, Any] = {}


def session() -> boto3.session.Session:
    global _session
    with _lock:
        if _session is None:
            _session = boto3.session.Session(botocore_session=botocore_session())
        return _session


def client(service: str) -> Any:
    """The container's client for ``service``."""
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                found = _clients[service] = session().client(service, config=FAST)
    return found


def configured_client(service: str, *, config: Any) -> Any:
    """A client with its own botocore ``Config`` (timeouts, retries), on the container's session; the
    caller keeps it."""
    with _lock:
        return session().client(service, config=config)


def resource(service: str) -> Any:
    found = _resources.get(service)
    if found is None:
        with _lock:
            found = _resources.get(service)
            if found is None:
                found = _resources[service] = session().resource(service, config=FAST)
    return found


def table(name: str) -> Any:
    """A DynamoDB ``Table`` on the container's resource (the object itself is cheap)."""
    return resource("dynamodb").Table(name)


def reset() -> None:
    """Forget the session and everything made on it."""
    global _session
    with _lock:
        _session = None
        _clients.clear()
        _resources.clear()


_untraced = threading.local()  # set inside calls_not_traced(), on this thread


@contextmanager
def calls_not_traced() -> Iterator[None]:
    """The AWS calls made inside on this thread get no subsegment of their own (their trace header
    still names the enclosing subsegment). For per-item calls in high-volume functions, whose batch
    is traced as a whole (``one_subsegment``, or the invocation's own)."""
    before = getattr(_untraced, "on", False)
    _untraced.on = True
    try:
        yield
    finally:
        _untraced.on = before


def let_calls_skip_xray() -> None:
    """Wrap the X-Ray SDK's botocore wrapper once more: inside ``calls_not_traced`` a call goes
    straight to botocore. Marking the subsegments unsampled instead saves nothing: the SDK's per-call
    work (context look-ups that re-parse the trace header, the subsegment objects) stays."""
    import botocore.client
    import wrapt

    traced = botocore.client.BaseClient.__dict__["_make_api_call"]
    if not isinstance(traced, wrapt.FunctionWrapper) or hasattr(botocore.client, "_turnaround_untraced"):
        return  # not patched (nothing to skip), or already wrapped
    setattr(botocore.client, "_turnaround_untraced", True)  # noqa: B010
    untraced = traced.__wrapped__

    def call(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if getattr(_untraced, "on", False):
            return untraced(instance, *args, **kwargs)
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(botocore.client, "BaseClient._make_api_call", call)
