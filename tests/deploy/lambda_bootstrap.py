"""Run one Lambda handler as the python3.12 runtime would, from built artifacts only.

Started by test_built_artifacts.py as ``python3.12 -I -S -B lambda_bootstrap.py TASK OPT RUNTIME HANDLER``
with the function's environment. ``-I -S``: no site-packages, no PYTHONPATH, no current directory, so
the only code that can be imported is the standard library, the built function folder (Lambda's
/var/task), the built layers merged as Lambda extracts them (/opt/python) and the SDK the runtime
provides; ``-B``: nothing is written beside them, as /opt and /var/task are read-only in Lambda.
Reads the event as JSON on stdin; prints one line ``RESULT <json>`` with the handler's return value,
or ``ERROR <json>`` with the exception, as Lambda would report it, and one line ``COMPILED <json>``:
the layers' modules that had to be compiled from source because no usable .pyc was shipped.
"""

import importlib
import importlib._bootstrap_external
import json
import sys
import time
import traceback

task_root, opt, runtime, handler_name = sys.argv[1:5]
sys.path[:0] = [task_root, f"{opt}/python", runtime]
compiled: list[str] = []
_source_to_code = importlib._bootstrap_external.SourceLoader.source_to_code


def _counted_source_to_code(self, data, path, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Called only when no valid .pyc exists for the module being imported."""
    if str(path).startswith(opt):
        compiled.append(str(path)[len(opt) :])
    return _source_to_code(self, data, path, *args, **kwargs)


importlib._bootstrap_external.SourceLoader.source_to_code = _counted_source_to_code  # type: ignore[method-assign]


class Context:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = "built-artifact-test"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "test"
        self._deadline = time.monotonic() + 60

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    try:
        run()
    finally:
        print("COMPILED " + json.dumps(compiled))


def run() -> None:
    event = json.load(sys.stdin)
    module_name, attribute = handler_name.rsplit(".", 1)
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        import os

        result = handler(event, Context(os.environ["AWS_LAMBDA_FUNCTION_NAME"]))
    except Exception as exc:  # reported as Lambda reports a function error
        print(
            "ERROR "
            + json.dumps(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exc(),
                }
            )
        )
        return
    print("RESULT " + json.dumps(result, default=str))


main()
