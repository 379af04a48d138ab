"""One cold start, in a fresh interpreter: import a handler's module (INIT) and invoke it once.

Started by coldstart.py as ``python coldstart_child.py MODULE [ATTRIBUTE]`` with the function's Lambda
environment and the event as JSON on stdin. Prints one line ``COLD <json>``: the process CPU (user +
sys, since the interpreter started) when the import finished and when the first invocation returned,
the peak RSS, how many modules were compiled from source (no usable .pyc) and the handler's error if
it raised. With no ATTRIBUTE it only imports the module:
that is how the peer, ``import boto3``, is measured the same way. With BENCH_COLD_PROFILE set to a
folder, the whole cold start (INIT + first call) runs under cProfile and its stats are written there
as ``<function name>-<module>-<pid>.prof`` (the CPU figures then include the profiler's own overhead).
"""

import importlib
import importlib._bootstrap_external
import json
import os
import resource
import sys
import time


class Context:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = "bench-cold-start"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + 60

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over from the
    parent across fork and exec, so a child of a big process would report the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


compiled = [0]
_source_to_code = importlib._bootstrap_external.SourceLoader.source_to_code


def _counted_source_to_code(self, data, path, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Called only when a module has no valid .pyc: Lambda compiles it at every cold start."""
    compiled[0] += 1
    return _source_to_code(self, data, path, *args, **kwargs)


importlib._bootstrap_external.SourceLoader.source_to_code = _counted_source_to_code  # type: ignore[method-assign]


def main() -> None:
    module_name = sys.argv[1]
    attribute = sys.argv[2] if len(sys.argv) > 2 else ""
    event = json.loads(sys.stdin.read() or "null")
    module = importlib.import_module(module_name)
    init = time.process_time()
    error, result = None, None
    if attribute:
        try:
            result = getattr(module, attribute)(
                event, Context(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench"))
            )
        except Exception as exc:  # reported, as Lambda reports a function error
            error = f"{type(exc).__name__}: {exc}"
    first = time.process_time()
    peak_kib = _peak_rss_kib()
    sys.stdout.write(
        "\nCOLD "
        + json.dumps(
            {
                "init_s": init,
                "total_s": first,
                "peak_mib": peak_kib / 1024,
                "compiled": compiled[0],
                "error": error,
                "result": json.dumps(result, default=str)[:300],
            }
        )
        + "\n"
    )


profile_dir = os.environ.get("BENCH_COLD_PROFILE")
if profile_dir:
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(main)
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", sys.argv[1])
    profiler.dump_stats(os.path.join(profile_dir, f"{name}-{sys.argv[1]}-{os.getpid()}.prof"))
else:
    main()
