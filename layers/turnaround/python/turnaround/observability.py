"""The one place Powertools objects are created; service name and namespace come from the template.

Tracing: ``Tracer()`` imports the X-Ray SDK, whose module-level recorder, outside Lambda, starts a
centralised sampler that builds two botocore X-Ray clients at import (~100 ms). So where tracing is off
(``POWERTOOLS_TRACE_DISABLED``, or not in Lambda: Powertools' own rule) the tracer gets a provider that
does nothing and the SDK is never imported. In Lambda the SDK uses its local sampler (no clients), and
only botocore is patched at init; requests (X's HTTP, through tweepy) is patched when something first
imports it, so functions that never call X neither import nor patch it. ``patch_all`` would also import
and probe a dozen libraries we do not use.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """A tracing provider that records nothing (tracing off), so the X-Ray SDK is not imported."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AbstractAsyncContextManager[BaseSegment]:
        @asynccontextmanager
        async def segment() -> Any:
            yield _NoSegment()

        return segment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def tracing_enabled() -> bool:
    """Powertools' rule: on in Lambda unless POWERTOOLS_TRACE_DISABLED; off under SAM local, Chalice
    or anywhere else."""
    if resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    local = os.getenv("AWS_SAM_LOCAL") or os.getenv("AWS_CHALICE_CLI_MODE")
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not local


def _tracer() -> Tracer:
    if not tracing_enabled():
        return Tracer(disabled=True, auto_patch=False, provider=NoTracing())
    traced = Tracer(patch_modules=("botocore",))
    import wrapt  # the X-Ray SDK's own dependency

    wrapt.register_post_import_hook(lambda _: traced.patch(("requests",)), "requests")
    return traced


logger = Logger()
tracer = _tracer()
metrics = Metrics()
