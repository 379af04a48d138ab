"""Lambda invocations in this process: moto would run a function in Docker; here an invocation calls
the function's real handler.

Invocations are serialised (one lock), except that `invoke_together` can run copies of one function
at the same moment, as a schedule firing twice does. Environments are not swapped per call: moto's execution
threads read os.environ concurrently, so the caller sets the union of the functions' variables once
(``merged_environment`` refuses if two functions disagree on a value).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO
from unittest import mock

from moto.awslambda.models import LambdaFunction

Handler = Callable[[dict[str, Any], Any], Any]
_invocation = threading.local()  # which function this thread is running, if any


def current_function() -> str | None:
    """The function whose handler is running on this thread (None: the caller's own code)."""
    return getattr(_invocation, "function_name", None)


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class InProcessLambdas:
    def __init__(self, log: TextIO | None = None) -> None:
        self.log = log  # where the functions' stdout goes (their CloudWatch Logs); None: leave it
        self.handlers: dict[str, Handler] = {}
        self.errors: list[tuple[str, str]] = []
        self.durations_ms: list[tuple[str, float]] = []  # for billed-duration estimates (make bench)
        self.cpu_ms: list[tuple[str, float]] = []  # this thread's CPU per invocation (make bench)
        self._lock = threading.RLock()
        self.stopped = False  # the cloud is going away: no handler runs any more

    def register(self, function_name: str, handler: Handler) -> None:
        self.handlers[function_name] = handler

    def register_module(self, function_name: str, module: str, attribute: str) -> None:
        self.register(function_name, getattr(importlib.import_module(module), attribute))

    def invoke(self, function_name: str, event: dict[str, Any]) -> tuple[Any, bool]:
        return self.invoke_together(function_name, event, copies=1)[0]

    def invoke_together(
        self, function_name: str, event: dict[str, Any], *, copies: int
    ) -> list[tuple[Any, bool]]:
        """Run `copies` invocations of one function at the same moment, each on its own thread, as
        two containers would when a schedule fires twice; returns each (result, errored)."""
        handler = self.handlers[function_name]
        output = contextlib.redirect_stdout(self.log) if self.log else contextlib.nullcontext()
        results: list[tuple[Any, bool]] = [({}, True)] * copies
        start_line = threading.Barrier(copies)

        def run(slot: int) -> None:
            start_line.wait()
            results[slot] = self._call(function_name, handler, event)

        with self._lock:
            if self.stopped:
                # A workflow still running when the run ended (moto's execution threads outlive
                # the cloud): its task fails here, before the handler can print to a closed log.
                return [(_stopped(function_name), True)] * copies
            with output:
                if copies == 1:
                    return [self._call(function_name, handler, event)]
                threads = [threading.Thread(target=run, args=(slot,)) for slot in range(copies)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
        return results

    def stop(self) -> None:
        """No handler runs after this returns: it waits for the one running (which prints its
        metrics as it ends) and turns later invocations away, so nothing writes to a closed log."""
        with self._lock:
            self.stopped = True

    def _call(self, function_name: str, handler: Handler, event: dict[str, Any]) -> tuple[Any, bool]:
        started, cpu_started = time.perf_counter(), time.thread_time()
        _invocation.function_name = function_name
        try:
            return handler(event, LambdaContext(function_name)), False
        except Exception as exc:  # the Lambda runtime reports any exception as the function error
            self.errors.append((type(exc).__name__, str(exc)))
            return {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }, True
        finally:
            _invocation.function_name = None
            self.durations_ms.append((function_name, (time.perf_counter() - started) * 1000))
            self.cpu_ms.append((function_name, (time.thread_time() - cpu_started) * 1000))

    @contextmanager
    def active(self) -> Iterator[InProcessLambdas]:
        runtime = self

        def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
            payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
            result, errored = runtime.invoke(function.function_name, payload)
            return json.dumps(result, default=str), errored, ""

        with mock.patch.object(LambdaFunction, "_invoke_lambda", invoke):
            yield self


def _stopped(function_name: str) -> dict[str, str]:
    return {
        "errorType": "LocalCloudStopped",
        "errorMessage": f"{function_name} was invoked after the local run ended",
    }


def merged_environment(environments: dict[str, dict[str, str]]) -> dict[str, str]:
    """One environment for every function; refuses if two functions give a variable different values."""
    merged: dict[str, str] = {}
    for function, variables in environments.items():
        for name, value in variables.items():
            if merged.setdefault(name, value) != value:
                raise ValueError(
                    f"{function} sets {name}={value!r} but another function {merged[name]!r}: "
                    "the in-process runtime cannot give each its own value"
                )
    return merged


def reset_process_state() -> None:
    """Forget what a Lambda container caches (settings, secrets, playbook, wired services): running
    every function in one process, a new deployment must not see the previous one's."""
    from aws_lambda_powertools.utilities import parameters

    from turnaround.handlers import container
    from turnaround.settings import get_settings

    get_settings.cache_clear()
    container.reset()  # the boto3 session, clients, secrets providers, X clients, playbook, services
    parameters.clear_caches()
