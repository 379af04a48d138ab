"""The in-process Lambda runtime at the end of a run: a handler still running finishes (and prints
its metrics) before the log closes, and a workflow task invoked afterwards fails cleanly instead of
printing into a closed file."""

from __future__ import annotations

import io
import threading
from typing import Any

from local_cloud.runtime import InProcessLambdas


def test_stop_waits_for_the_running_handler_and_turns_later_invocations_away():
    log = io.StringIO()
    lambdas = InProcessLambdas(log=log)
    started, release = threading.Event(), threading.Event()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started.set()
        release.wait(5)
        print('{"_aws": "metrics"}')  # what Powertools' log_metrics prints as the handler ends
        return {"ok": event["n"]}

    lambdas.register("Tasks", handler)
    results: list[tuple[Any, bool]] = []
    running = threading.Thread(target=lambda: results.append(lambdas.invoke("Tasks", {"n": 1})))
    running.start()
    started.wait(5)
    stopping = threading.Thread(target=lambdas.stop)
    stopping.start()
    stopping.join(0.2)
    assert stopping.is_alive()  # waits for the handler that is still running
    release.set()
    running.join(5)
    stopping.join(5)
    log.close()  # what the cloud does next

    assert results == [({"ok": 1}, False)]
    late, errored = lambdas.invoke("Tasks", {"n": 2})  # a workflow thread that outlived the run
    assert errored and late["errorType"] == "LocalCloudStopped"
