"""Cold start per handler as Lambda pays it: INIT (the handler module's import) plus the first
invocation, each in a fresh interpreter, beside ``import boto3`` measured the same way.

The code is what Lambda runs: both layers built by their own Makefiles, as `sam build` runs them
(the dependencies' cp312 wheels; each layer's .pyc as the build ships them, or none), merged as Lambda
extracts them, the function folder as /var/task and the SDK where the runtime has it, precompiled as
the runtime's is; a CPython 3.12, the template's runtime, runs it with ``-S -B`` (no site-packages,
nothing written: /opt and /var/task are read-only in Lambda, so a module without a shipped .pyc is
compiled at every cold start, and the child counts those). Without a CPython 3.12 on the machine the
children run the source tree on this Python instead, with its caches, and the rows say so.
BENCH_LAYER_PYC=off builds the layers as a machine without python3.12 does (no .pyc), to see what
that costs.

The stack from template.yaml is deployed into a moto *server* and the X emulator serves X, both in
this process; each child (coldstart_child.py) is a clean CPython with the function's Lambda
environment (the template's variables, tracing on with a trace header and a daemon address, INFO
logs) whose SDK reaches moto over HTTP through AWS_ENDPOINT_URL. So a child's CPU is ours alone:
interpreter start, imports, client creation, serialising, signing, HTTP, parsing, rendering; moto
and the emulator answer from other threads of this process. Figures are process CPU (user + sys) of
the child, best of N rounds, the rounds interleaved with the peer; ratios, because absolute times on
a shared box swing ~2x. Each round gives every function real work for its first call: a new complaint
for the poller, that case's stream record for the dispatcher, its Acknowledge for the workflow.
A last pass hands the poller 800 new mentions (8 pages, the template's most per pass) in a fresh
process for its peak memory under load.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import yaml

from tests.bench.figures import FLOORS, Row, recommend_memory_mb

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("coldstart_child.py")
MINIMAL = Path(__file__).with_name("minimal_function")  # the stack's libraries, no code of ours
MINIMAL_EVENT = {"pk": "bench", "sk": "minimal"}
SCHEDULED = json.loads((ROOT / "tests/events/scheduled_poll.json").read_text())
FULL_PASS = 800  # mentions: 8 pages of X_MAX_RESULTS=100, the template's most per pass
RUNTIME_VERSION = (3, 12)  # template.yaml: Runtime python3.12


def lambda_python() -> str | None:
    """A CPython of the runtime's version, looked for where layers/lambda_bytecode.sh looks."""
    version = ".".join(map(str, RUNTIME_VERSION))
    candidates = [
        os.environ.get("LAMBDA_PYTHON"),
        shutil.which(f"python{version}"),
        *sorted(
            glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")), reverse=True
        ),
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", f"import sys; sys.exit(sys.version_info[:2] != {RUNTIME_VERSION})"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return candidate
    return None


@dataclass
class LambdaCode:
    """What a Lambda sandbox holds: the interpreter, the merged layers (/opt) and the runtime's SDK."""

    python: str
    opt: Path | None  # None: the source tree on this Python (no CPython 3.12 here)
    runtime: Path | None
    layer_pyc: bool

    def describe(self) -> str:
        if self.opt is None:
            return f"NOT Lambda's: the source tree on {sys.version.split()[0]}, cached .pyc (no CPython 3.12)"
        return "built layers on CPython 3.12, " + (
            "with the .pyc the build ships" if self.layer_pyc else "without .pyc (BENCH_LAYER_PYC=off)"
        )


def built_code(scratch: Path, root: Path = ROOT) -> LambdaCode:
    """Both layers of the tree ``root`` built by their Makefiles (as sam build runs them) and merged as
    Lambda extracts them."""
    python = lambda_python()
    layer_pyc = os.environ.get("BENCH_LAYER_PYC", "on") != "off"
    if python is None:
        return LambdaCode(sys.executable, None, None, layer_pyc=True)
    opt = scratch / "opt"
    for layer, logical_id in (("turnaround", "TurnaroundLayer"), ("dependencies", "DependenciesLayer")):
        artifacts = scratch / logical_id
        subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-s",
                "-f",
                "Makefile",
                f"build-{logical_id}",
                f"ARTIFACTS_DIR={artifacts}",
            ],
            cwd=root / "layers" / layer,
            env={**os.environ, "PYTHON": sys.executable, "LAMBDA_PYTHON": python},
            check=True,
            capture_output=True,
            timeout=600,
        )
        shutil.copytree(artifacts, opt, dirs_exist_ok=True)
    if not layer_pyc:
        for cache in list(opt.rglob("__pycache__")):
            shutil.rmtree(cache)
    runtime = scratch / "runtime"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--target",
            str(runtime),
            "-r",
            str(ROOT / "tests/deploy/lambda_runtime.txt"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    # The runtime's SDK comes with its .pyc (pip compiled it where the runtime image was made).
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", str(runtime)], check=True, capture_output=True
    )
    return LambdaCode(python, opt, runtime, layer_pyc)


@dataclass
class Base:
    """BENCH_COLD_BASE=<git ref>: that commit's tree (git archive) and its build, so a change's cold
    start is measured before and after in the same rounds, interleaved, on the same stack and box."""

    ref: str
    root: Path
    code: LambdaCode


def base_code(scratch: Path) -> Base | None:
    ref = os.environ.get("BENCH_COLD_BASE")
    if not ref:
        return None
    root = scratch / "base-tree"
    root.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    code = built_code(scratch / "base-build", root)
    return Base(ref, root, code) if code.opt is not None else None


@dataclass
class Served:
    """The stack in a moto server plus the X emulator, for processes other than this one."""

    stack: Any
    endpoint: str
    emulator: Any
    playbook: Path
    daemon: socket.socket  # a UDP sink for X-Ray segments (tracing on, as in Lambda)
    brand: str
    code: LambdaCode
    base: Base | None = None  # BENCH_COLD_BASE: an earlier commit's build, measured in the same rounds
    cases_seen: set[str] = field(default_factory=set)

    def python_path(self, logical_id: str | None, base: bool = False) -> str:
        """Lambda's: /var/task, /opt/python, the runtime's SDK (None: the peer, the SDK alone)."""
        if self.code.opt is None or self.code.runtime is None:
            return f"{ROOT / 'layers/turnaround/python'}:{ROOT}"
        if logical_id is None:
            return str(self.code.runtime)
        root, opt = (self.base.root, self.base.code.opt) if base and self.base else (ROOT, self.code.opt)
        task = root / self.stack.functions[logical_id].code_uri
        return f"{task}:{opt}/python:{self.code.runtime}"

    def minimal_path(self) -> str:
        """The minimal handler as /var/task, on the same layers and SDK as the functions."""
        if self.code.opt is None or self.code.runtime is None:
            return f"{MINIMAL}:{ROOT / 'layers/turnaround/python'}"
        return f"{MINIMAL}:{self.code.opt}/python:{self.code.runtime}"

    def environment(self, logical_id: str, base: bool = False) -> dict[str, str]:
        function = self.stack.functions[logical_id]
        memory = int(self.stack.template["Resources"][logical_id]["Properties"].get("MemorySize", 128))
        host, port = self.daemon.getsockname()
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": self.python_path(logical_id, base),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",  # the handlers build their collaborators at INIT
            # What Lambda sets; tracing on as Tracing: Active makes it.
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "LAMBDA_TASK_ROOT": str((self.base.root if base and self.base else ROOT) / function.code_uri),
            "_HANDLER": function.handler,
            "_X_AMZN_TRACE_ID": "Root=1-6741e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            # The local differences, and only these: AWS is the moto server, X the emulator.
            "AWS_ENDPOINT_URL": self.endpoint,
            "X_API_BASE_URL": self.emulator.base_url,
        }
        if os.environ.get("BENCH_COLD_PROFILE"):  # see coldstart_child.py
            environment["BENCH_COLD_PROFILE"] = os.environ["BENCH_COLD_PROFILE"]
        for name, raw in function.environment.items():
            value = str(raw)
            environment[name] = str(self.playbook) if value.startswith("/opt/") else value
        return environment

    def new_case_record(self, root_tweet_id: str) -> tuple[str, dict[str, Any]] | None:
        """The case the poller opened for a post, and its INSERT record as the stream delivers it."""
        mapping = next(
            m for m in self.stack.streams if m.function == self.stack.functions["CaseDispatcherFunction"].name
        )
        streams = boto3.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            iterator = streams.get_shard_iterator(
                StreamArn=mapping.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                image = record["dynamodb"].get("NewImage", {})
                if (
                    record["eventName"] == "INSERT"
                    and image.get("type", {}).get("S") == "case"
                    and image.get("root_tweet_id", {}).get("S") == root_tweet_id
                ):
                    return image["case_id"]["S"], {**record, "eventSourceARN": mapping.stream_arn}
        return None


@contextmanager
def served_stack() -> Iterator[Served]:
    from moto.server import ThreadedMotoServer

    from local_cloud.cloud import SECRET_PREFIX, scaled_playbook
    from local_cloud.moto_fixes import dynamodb_as_in_aws
    from local_cloud.stack import deploy
    from x_emulator import SimulatedClock, load_scenario

    spec = yaml.safe_load((ROOT / "infrastructure/scenarios/bench.yaml").read_text())
    # X's clock at the children's own time: each function reads the real clock, and a post older
    # than a day on a new stack's first pass goes to a person, not a case (no first call's work).
    emulator, _ = load_scenario(
        {k: v for k, v in spec.items() if k != "start"}, clock=SimulatedClock(datetime.now(UTC))
    )
    brand = next(u for u in emulator.world.users.values() if u.access_token)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.setblocking(False)
    build = tempfile.TemporaryDirectory(prefix="bench-lambda-")
    try:
        code = built_code(Path(build.name) / "current")
        base = base_code(Path(build.name))
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        with tempfile.TemporaryDirectory() as scratch, emulator:
            playbook = scaled_playbook(Path(scratch), spec.get("playbook") or {}, 1)
            sender_domain = yaml.safe_load(playbook.read_text())["sender_email"].split("@")[1]
            boto3.client("ses").verify_domain_identity(Domain=sender_domain)
            boto3.client("secretsmanager").create_secret(
                Name=f"{SECRET_PREFIX}{brand.username}",
                SecretString=json.dumps(
                    {
                        "consumer_key": emulator.consumer_key,
                        "consumer_secret": emulator.consumer_secret,
                        "access_token": brand.access_token,
                        "access_token_secret": brand.access_token_secret,
                    }
                ),
            )
            stack = deploy(
                {
                    "MonitoredHandles": brand.username,
                    "Stage": "local",
                    "ReplyEmailDomain": f"reply.{sender_domain}",
                },
                stack_name="turnaround-bench-cold",
            )
            with dynamodb_as_in_aws():  # after the deploy: the stream reaches no function by itself
                yield Served(stack, endpoint, emulator, playbook, daemon, brand.username, code, base)
    finally:
        build.cleanup()
        os.environ.clear()
        os.environ.update(saved)
        daemon.close()
        server.stop()


def run_child(
    served: Served, environment: dict[str, str], module: str, attribute: str = "", event: Any = None
) -> dict[str, Any]:
    lambda_like = served.code.opt is not None
    result = subprocess.run(
        [
            served.code.python,
            *(["-S", "-B"] if lambda_like else []),
            str(CHILD),
            module,
            *([attribute] if attribute else []),
        ],
        input=json.dumps(event, default=str),
        capture_output=True,
        text=True,
        env=environment,
        cwd=tempfile.gettempdir(),  # nothing of the repo on the path but what PYTHONPATH names
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("COLD ")]
    if not lines:
        return {"error": f"exit {result.returncode}: {result.stderr[-600:]}"}
    return dict(json.loads(lines[-1][5:]))


def _function_url_get(query: str) -> dict[str, Any]:
    host = "bench.lambda-url.us-east-1.on.aws"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")),
        "headers": {"host": host},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "b",
            },
            "domainName": host,
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
            "accountId": "123456789012",
            "apiId": "x",
            "time": "23/Nov/2026:10:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }


# What each function's first call gets, and what that call does (printed beside the figure).
WORK = {
    "mention_poller": "1 new complaint: store, open a case",
    "case_dispatcher": "that case's stream record: start its workflow",
    "workflow_tasks": "acknowledge that case: reply on X",
    "dm_poller": "schedule: read DMs, none new",
    "unsure_digest": "schedule: nothing unsure",
    "incident_digest": "schedule: no incident",
    "action_page": "GET of a forged link: 403",
    "dm_mail": "the case's INSERT record: not a DM, skipped",
    "inbound_email": "a stored mail from a non-rep: read, parse, refuse",
}


def cold_starts(rounds: int) -> tuple[list[Row], dict[str, Any]]:
    """Best-of-``rounds`` cold start per handler (INIT + first invocation) over ``import boto3``."""
    by_logical = {}
    figures: dict[str, Any] = {"rounds": rounds, "by_function": {}}
    with served_stack() as served:
        for logical_id, function in served.stack.functions.items():
            by_logical[Path(function.code_uri).name] = logical_id
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in ["boto3", *sorted(by_logical)]}
        peer_env = {
            **served.environment(by_logical["mention_poller"]),
            "PYTHONPATH": served.python_path(None),
        }
        minimal_env = {
            **served.environment(by_logical["mention_poller"]),
            "PYTHONPATH": served.minimal_path(),
            "_HANDLER": "app.lambda_handler",
        }
        minimal: list[dict[str, Any]] = []
        figures["code"] = served.code.describe()
        before: dict[str, list[dict[str, Any]]] = {name: [] for name in samples}
        order = sorted(by_logical, key=lambda n: list(WORK).index(n) if n in WORK else len(WORK))
        passes = 0

        def one_pass(into: dict[str, list[dict[str, Any]]], base: bool) -> None:
            """Every function once, each with real work for its first call (a new complaint)."""
            nonlocal passes
            passes += 1
            into["boto3"].append(run_child(served, peer_env, "boto3"))
            post = served.emulator.add_post(
                f"c{passes % 300 + 1}", f"@{served.brand} my bag is lost and nobody answers (cold {passes})"
            )
            case: tuple[str, dict[str, Any]] | None = None
            for name in order:
                logical_id = by_logical[name]
                function = served.stack.functions[logical_id]
                if base and not (served.base and (served.base.root / function.code_uri).is_dir()):
                    continue  # a function the base commit does not have
                if name == "case_dispatcher":
                    case = served.new_case_record(post.id)
                event = _first_event(served, name, function, case, passes)
                into[name].append(
                    run_child(
                        served,
                        served.environment(logical_id, base),
                        _module(served, function),
                        function.attribute,
                        event,
                    )
                )

        for round_number in range(rounds):
            # The same code before and after a change: measured once a round.
            minimal.append(run_child(served, minimal_env, "app", "lambda_handler", MINIMAL_EVENT))
            if served.base is None:
                one_pass(samples, base=False)
            else:  # before and after interleaved, in turn first
                for base in (False, True) if round_number % 2 == 0 else (True, False):
                    one_pass(before if base else samples, base)
        # The poller's peak memory under a full pass, in its own fresh process.
        root = served.emulator.add_post("c1", f"@{served.brand} you lost my bag and my medication")
        for n in range(FULL_PASS - 1):
            served.emulator.add_post(
                f"c{n % 300 + 1}", f"@{served.brand} @c1 same here #{n}", reply_to=root.id
            )
        poller = served.stack.functions[by_logical["mention_poller"]]
        full_pass = run_child(
            served,
            served.environment(by_logical["mention_poller"]),
            _module(served, poller),
            poller.attribute,
            SCHEDULED,
        )
        template_memory = {
            name: int(served.stack.template["Resources"][logical]["Properties"].get("MemorySize", 128))
            for name, logical in by_logical.items()
        }
    if served.base is not None:  # the peer's runs of both passes: it is the same code
        samples["boto3"] += before.pop("boto3")
        figures["base"] = {"ref": served.base.ref, "by_function": _before_rows(before, samples["boto3"])}
    rows, figures = _rows(samples, full_pass, template_memory, figures, minimal)
    if served.base is not None:
        rows += [
            (f"cold start before ({served.base.ref}): {name}", f"{ratio:.2f}x", "same rounds, interleaved")
            if isinstance(ratio, float)
            else (f"cold start before ({served.base.ref}): {name}", "error", ratio)
            for name, ratio in figures["base"]["by_function"].items()
        ]
    return rows, figures


def _first_event(
    served: Served, name: str, function: Any, case: tuple[str, dict[str, Any]] | None, passes: int
) -> Any:
    """What the function's first call gets (WORK says what it does with it)."""
    if name == "inbound_email":
        return _ses_receipt(served, function.environment, passes)
    return {
        "mention_poller": SCHEDULED,
        "dm_poller": SCHEDULED,
        "unsure_digest": SCHEDULED,
        "case_dispatcher": {"Records": [case[1]] if case else []},
        "dm_mail": {"Records": [case[1]] if case else []},
        "workflow_tasks": {"task": "acknowledge", "case_id": case[0] if case else "missing"},
        "action_page": _function_url_get("t=forged.c2lnbmF0dXJl"),
    }.get(name, SCHEDULED)


def _module(served: Served, function: Any) -> str:
    """The handler's module as Lambda imports it from /var/task, or from the repository's root."""
    return str(function.handler.rsplit(".", 1)[0]) if served.code.opt is not None else str(function.module)


def _ses_receipt(served: Served, environment: dict[str, str], round_number: int) -> dict[str, Any]:
    """SES's receipt event for a rep's emailed reply stored in the inbound bucket (from an address
    that is no rep's: the function reads, parses and refuses it)."""
    brand = served.brand
    message_id = f"bench-cold-{round_number}"
    raw = (
        "From: Someone <someone@example.com>\r\nTo: case+x@reply.example\r\n"
        f"Subject: Re: your case\r\nMessage-ID: <{message_id}@example.com>\r\n\r\nThanks, sorted.\r\n"
    )
    boto3.client("s3").put_object(
        Bucket=environment["INBOUND_MAIL_BUCKET"],
        Key=f"{environment.get('INBOUND_MAIL_PREFIX', '')}{message_id}",
        Body=raw.encode(),
    )
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": "2026-11-23T09:00:00.000Z",
                        "source": "rep@example.com",
                        "messageId": message_id,
                        "destination": [f"case+x@reply.{brand}.example"],
                        "headersTruncated": False,
                        "headers": [],
                        "commonHeaders": {"returnPath": "rep@example.com", "from": ["rep@example.com"]},
                    },
                    "receipt": {
                        "timestamp": "2026-11-23T09:00:00.000Z",
                        "processingTimeMillis": 10,
                        "recipients": [f"case+x@reply.{brand}.example"],
                        "spamVerdict": {"status": "PASS"},
                        "virusVerdict": {"status": "PASS"},
                        "spfVerdict": {"status": "PASS"},
                        "dkimVerdict": {"status": "PASS"},
                        "dmarcVerdict": {"status": "PASS"},
                        "action": {"type": "Lambda", "functionArn": "arn:aws:lambda:us-east-1:1:function:x"},
                    },
                },
            }
        ]
    }


def _before_rows(
    before: dict[str, list[dict[str, Any]]], peer_runs: list[dict[str, Any]]
) -> dict[str, float | str]:
    """The base commit's ratio per function (INIT + first call over the pooled peer), or the error
    its runs ended with (an older commit's code may not run against today's stack): never a
    silently missing row."""
    peer = _best(peer_runs, "init_s") or float("nan")
    rows: dict[str, float | str] = {}
    for name, runs in before.items():
        total = _best(runs, "total_s")
        errors = [str(r["error"]) for r in runs if r.get("error")]
        rows[name] = total / peer if total is not None else "error: " + _what_failed(errors)
    return rows


def _what_failed(errors: list[str]) -> str:
    """The line of a child's stderr that names what failed (its exception), else its last line."""
    lines = [line.strip() for line in (errors or ["no result"])[0].splitlines() if line.strip()]
    named = [line for line in lines if "Error" in line or "Exception" in line]
    return (named or lines or ["no result"])[-1][:120]


def _best(samples: list[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in samples if key in s and not s.get("error")]
    return min(values) if values else None


def _rows(
    samples: dict[str, list[dict[str, Any]]],
    full_pass: dict[str, Any],
    template_memory: dict[str, int],
    figures: dict[str, Any],
    minimal: list[dict[str, Any]],
) -> tuple[list[Row], dict[str, Any]]:
    peer = _best(samples.pop("boto3"), "init_s") or float("nan")
    floor = FLOORS["cold_start_ratio"]
    rows: list[Row] = [
        (
            "cold start peer: import boto3, fresh interpreter, CPU",
            f"{peer * 1000:.0f} ms",
            "≈ 130 ms on a quiet box: scale absolute times by it",
        )
    ]
    figures["boto3_import_ms"] = peer * 1000
    rows.append(("cold start: the code the children ran", "", str(figures.get("code", ""))))
    least = _best(minimal, "total_s")
    minimal_errors = sorted({str(r["error"]) for r in minimal if r.get("error")})
    figures["minimal_handler"] = {
        "cold_start_ms": least * 1000 if least is not None else None,
        "ratio": least / peer if least is not None else None,
        "errors": minimal_errors,
    }
    rows.append(
        (
            "cold start (INIT + 1st call): minimal handler, no code of ours",
            f"{least / peer:.2f}x  ({least * 1000:.0f} ms)" if least is not None else "error",
            (f"ERROR: {minimal_errors[0][:80]}; " if minimal_errors else "")
            + "Powertools Logger/Tracer/Metrics, one pydantic model, one DynamoDB call: "
            "the floor under every handler (tests/bench/minimal_function)",
        )
    )
    memory_rows: list[Row] = []
    for name, runs in samples.items():
        total, init = _best(runs, "total_s"), _best(runs, "init_s")
        errors = sorted({str(r["error"]) for r in runs if r.get("error")})
        peaks = [r["peak_mib"] for r in runs if "peak_mib" in r]
        if name == "mention_poller" and "peak_mib" in full_pass:
            peaks.append(full_pass["peak_mib"])
        figure: dict[str, Any] = {
            "compiled_at_start": max((r.get("compiled", 0) for r in runs), default=0),
            "errors": errors,
            "work": WORK.get(name, ""),
            "first_result": next((r.get("result") for r in runs), None),
        }
        if total is not None and init is not None:
            ratio = total / peer
            figure.update(
                {
                    "init_ms": init * 1000,
                    "first_invocation_ms": (total - init) * 1000,
                    "cold_start_ms": total * 1000,
                    "ratio": ratio,
                    "init_ratio": init / peer,
                    "over_minimal_ms": (total - least) * 1000 if least is not None else None,
                }
            )
            rows.append(
                (
                    f"cold start (INIT + 1st call): {name}",
                    f"{ratio:.2f}x  ({init * 1000:.0f} + {(total - init) * 1000:.0f} ms)",
                    # A round that failed did not do the work: the row says so before its verdict.
                    (
                        f"ERROR in {sum(1 for r in runs if r.get('error'))} of {len(runs)} rounds "
                        f"({errors[0][:60]}); "
                        if errors
                        else ""
                    )
                    + f"{floor.verdict(ratio)}; {WORK.get(name, '')}"
                    + (f"; ours: {(total - least) * 1000:+.0f} ms over the minimal handler" if least else ""),
                )
            )
        else:
            rows.append(
                (f"cold start (INIT + 1st call): {name}", "error", (errors or ["no result"])[0][:100])
            )
        if peaks:
            peak = max(peaks)
            recommended = recommend_memory_mb(peak)
            figure.update(
                {
                    "peak_mib": peak,
                    "recommended_memory_mb": recommended,
                    "template_memory_mb": template_memory[name],
                }
            )
            memory_rows.append(
                (
                    f"peak memory (max RSS): {name}",
                    f"{peak:.0f} MiB",
                    f"recommend MemorySize {recommended} MB (≥ 40% free); template {template_memory[name]} MB"
                    + (f"; incl. a {FULL_PASS}-mention pass" if name == "mention_poller" else ""),
                )
            )
        figures["by_function"][name] = figure
    figures["poller_full_pass"] = full_pass
    return rows + memory_rows, figures
