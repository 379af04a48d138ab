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
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

# batches of AWS calls traced as one (the wrapper on botocore lives with the other botocore code)
from turnaround.adapters.aws import calls_not_traced as calls_not_traced
from turnaround.adapters.aws import let_calls_skip_xray


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
    let_calls_skip_xray()
    import wrapt  # the X-Ray SDK's own dependency

    wrapt.register_post_import_hook(lambda _: traced.patch(("requests",)), "requests")
    return traced


logger = Logger()
tracer = _tracer()
metrics = Metrics()


@contextmanager
def one_subsegment(name: str) -> Iterator[BaseSegment | None]:
    """Record the AWS calls made inside as one subsegment ``## name`` rather than one each.

    The X-Ray SDK gives every botocore call its own subsegment, and streams each to the daemon once
    a segment holds more than 100: a poll that stores 1,000 mentions would build and send 1,000
    subsegments, a good part of each mention's CPU. Here X-Ray gets one subsegment for the batch,
    with its time and any error (the calls inside are ``calls_not_traced``). Yields the subsegment
    (None when tracing is off)."""
    provider = tracer.provider
    if isinstance(provider, NoTracing):
        yield None
        return
    with provider.in_subsegment(name=f"## {name}") as subsegment, calls_not_traced():
        yield subsegment
