"""Lambda invocations in this process: moto would run a function in Docker; here an invocation calls
the function's real handler with the Environment the deployed function has.

Invocations are serialised (one lock) because each swaps os.environ to its function's variables,
as its own Lambda sandbox would have them.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO
from unittest import mock

from moto.awslambda.models import LambdaFunction

Handler = Callable[[dict[str, Any], Any], Any]


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
        self.handlers: dict[str, tuple[Handler, dict[str, str] | None]] = {}
        self.invocations: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, str]] = []
        self._lock = threading.RLock()

    def register(
        self, function_name: str, handler: Handler, environment: dict[str, str] | None = None
    ) -> None:
        """``environment`` replaces os.environ's function variables during each call (None: leave as is)."""
        self.handlers[function_name] = (handler, environment)

    def register_module(
        self, function_name: str, module: str, attribute: str, environment: dict[str, str] | None = None
    ) -> None:
        self.register(function_name, getattr(importlib.import_module(module), attribute), environment)

    def invoke(self, function_name: str, event: dict[str, Any]) -> tuple[Any, bool]:
        handler, environment = self.handlers[function_name]
        output = contextlib.redirect_stdout(self.log) if self.log else contextlib.nullcontext()
        with self._lock, _environment(environment), output:
            self.invocations.append((function_name, event))
            try:
                return handler(event, LambdaContext(function_name)), False
            except Exception as exc:  # the Lambda runtime reports any exception as the function error
                self.errors.append((type(exc).__name__, str(exc)))
                return {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }, True

    @contextmanager
    def active(self) -> Iterator[InProcessLambdas]:
        runtime = self

        def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
            payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
            result, errored = runtime.invoke(function.function_name, payload)
            return json.dumps(result, default=str), errored, ""

        with mock.patch.object(LambdaFunction, "_invoke_lambda", invoke):
            yield self


@contextmanager
def _environment(variables: dict[str, str] | None) -> Iterator[None]:
    if variables is None:
        yield
        return
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
