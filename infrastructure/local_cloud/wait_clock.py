"""Step Functions' Wait with a Timestamp (or TimestampPath) waits for that moment on the functions'
clock, as in AWS, where Step Functions and Lambda share the one real clock. Here the functions live
in X's simulated time (`turnaround.clock`), which `make run` moves at its scale and a test moves by
hand, while moto's interpreter would compare the timestamp with the machine's own clock (and, being
naive, its local time). Waits given in seconds are left alone: the playbook's are scaled instead."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any
from unittest import mock

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

from turnaround import clock

POLL_SECONDS = 0.1  # real seconds between looks at the clock (a test moves it by hand)


def _waiting_on_the_functions_clock(torn_down: threading.Event) -> Any:
    def wait(self: Timestamp, env: Any) -> None:
        self.string.eval(env=env)
        text = env.stack.pop()
        moment = self._from_timestamp_string(timestamp=text)
        if moment is None:
            raise FailureEventException(self._create_failure_event(env, text))
        moment = moment.replace(tzinfo=UTC)
        while env.is_running() and clock.utc_now() < moment:
            if torn_down.wait(POLL_SECONDS):
                # The cloud is gone (its clock with it): never run the next state against it; the
                # interpreter's daemon thread ends with the process.
                threading.Event().wait()

    return wait


@contextmanager
def timestamp_waits_on_the_functions_clock() -> Iterator[None]:
    torn_down = threading.Event()
    try:
        with mock.patch.object(Timestamp, "_eval_body", _waiting_on_the_functions_clock(torn_down)):
            yield
    finally:
        torn_down.set()
