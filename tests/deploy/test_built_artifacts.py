"""The deployable artifacts, built exactly as `make deploy` builds them, start and work in Lambda.

`make build` (the SAM CLI from .venv-sam, offline) writes the functions and layers; then each handler is
imported and invoked once by a CPython 3.12 (the template's runtime) that can see only what Lambda would
give it, where Lambda puts it: the built function folder at /var/task, both built layers merged at /opt,
and the SDK the runtime provides (lambda_runtime.txt) at /var/runtime. It talks to a moto server holding
the stack deployed from template.yaml with samconfig.toml's prod parameters, and to the X emulator, with
the environment the template gives each function, tracing on as in production.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from local_cloud.moto_fixes import dynamodb_as_in_aws
from local_cloud.stack import DeployedStack, deploy
from x_emulator import XApiEmulator

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LAMBDA_RUNTIME = "python3.12"
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024  # Lambda: function plus all its layers, unzipped
pytestmark = pytest.mark.slow


# --- building ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make build` into a scratch folder: the SAM CLI's own venv, the template's build methods."""
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"BUILD_DIR={build_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    assert result.returncode == 0, f"make build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return build_dir


@pytest.fixture(scope="module")
def built_template(built: Path) -> dict[str, Any]:
    return yaml.load((built / "template.yaml").read_text(), Loader=_IgnoreTags)


class _IgnoreTags(yaml.SafeLoader):
    pass


_IgnoreTags.add_multi_constructor("!", lambda loader, suffix, node: None)


def _layer_dir(built: Path, template: dict[str, Any], logical_id: str) -> Path:
    return built / template["Resources"][logical_id]["Properties"]["ContentUri"]


def test_every_artifact_is_built_not_the_source_folder(built: Path, built_template: dict[str, Any]) -> None:
    for logical_id, resource in built_template["Resources"].items():
        uri = resource.get("Properties", {}).get("CodeUri") or resource.get("Properties", {}).get(
            "ContentUri"
        )
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            assert uri == logical_id, f"{logical_id} ships {uri!r}, not its build output"
            assert (built / uri).is_dir()


def test_the_layer_carries_the_playbook_the_brand_edits(built: Path, built_template: dict[str, Any]) -> None:
    shipped = _layer_dir(built, built_template, "TurnaroundLayer") / "python/turnaround/playbook.yaml"
    assert shipped.read_bytes() == (ROOT / "infrastructure/playbook.yaml").read_bytes()
    from turnaround.models.playbook import load_playbook

    load_playbook(str(shipped))  # validated as Lambda loads it: every template variant renders
    # and its JSON copy, made from this very YAML, is what Lambda reads (no YAML parser at cold start)
    from turnaround.playbook_file import compiled_path

    copy = json.loads(compiled_path(shipped).read_text())
    assert copy["source_sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert copy["playbook"] == yaml.safe_load(shipped.read_text())
    globals_env = built_template["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["PLAYBOOK_PATH"] == "/opt/python/turnaround/playbook.yaml"


def test_the_build_never_reuses_a_cache() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for environment in ("prod", "dev"):
        assert config[environment]["build"]["parameters"]["cached"] is False


def _runtime_provided() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (HERE / "lambda_runtime.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _installed(site: Path) -> dict[str, tuple[Version, list[str]]]:
    found: dict[str, tuple[Version, list[str]]] = {}
    for metadata in site.glob("*.dist-info/METADATA"):
        text = metadata.read_text(encoding="utf-8", errors="replace")
        name = re.search(r"^Name: (.+)$", text, re.M)
        version = re.search(r"^Version: (.+)$", text, re.M)
        assert name and version, metadata
        requires = re.findall(r"^Requires-Dist: (.+)$", text, re.M)
        found[canonicalize_name(name[1].strip())] = (Version(version[1].strip()), requires)
    return found


def test_dependencies_layer_is_the_closed_pinned_set_without_the_sdk(
    built: Path, built_template: dict[str, Any]
) -> None:
    site = _layer_dir(built, built_template, "DependenciesLayer") / "python"
    shipped = _installed(site)
    pinned = {
        canonicalize_name(line.split("==")[0]): Version(line.split("==")[1])
        for line in (ROOT / "layers/dependencies/requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert {name: version for name, (version, _) in shipped.items()} == pinned
    runtime = _runtime_provided()
    assert not {"boto3", "botocore", "s3transfer"} & shipped.keys(), "the runtime provides the AWS SDK"
    environment: dict[str, str] = {
        **{key: str(value) for key, value in default_environment().items()},
        "python_version": "3.12",
        "python_full_version": "3.12.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "extra": "",
    }
    missing = []
    for name, (_, requires) in shipped.items():
        for raw in requires:
            requirement = Requirement(raw)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue  # an extra we do not install, or another platform or Python
            dependency = canonicalize_name(requirement.name)
            have = shipped[dependency][0] if dependency in shipped else runtime.get(dependency)
            if have is None or not requirement.specifier.contains(have, prereleases=True):
                missing.append(f"{name} needs {raw} (have {have})")
    assert not missing, "dependencies neither pinned in the layer nor provided by the runtime: " + "; ".join(
        missing
    )


def test_support_hours_time_zones_resolve_from_the_layer_alone(
    built: Path, built_template: dict[str, Any]
) -> None:
    """The runtime may have no system time zone data: zoneinfo must find the playbook's zone in the
    layer's tzdata (PYTHONTZPATH empty hides this machine's /usr/share/zoneinfo). -B: this Python
    must not leave its own bytecode in the built layer."""
    layers = [
        _layer_dir(built, built_template, name) / "python"
        for name in ("DependenciesLayer", "TurnaroundLayer")
    ]
    probe = (
        "import tzdata, zoneinfo; from datetime import datetime, UTC; "
        "assert zoneinfo.TZPATH == (), zoneinfo.TZPATH; "
        "print(datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(zoneinfo.ZoneInfo('Europe/London')).tzname(), "
        "tzdata.__file__)"
    )
    on_path = f"import sys; sys.path[:0] = {[str(p) for p in layers]!r}; "
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", on_path + probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONTZPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    zone_name, source = result.stdout.split()
    assert zone_name == "BST" and source.startswith(str(layers[0])), result.stdout


def test_the_layers_ship_bytecode_for_the_runtime(built: Path, built_template: dict[str, Any]) -> None:
    """Every module of both layers has a hash-based .pyc for CPython 3.12, the template's runtime.
    (The build finds a 3.12 where this test does: layers/lambda_bytecode.sh; invoke() below checks
    that the runtime really loads them.)"""
    tag = "cpython-" + LAMBDA_RUNTIME.removeprefix("python").replace(".", "")
    for layer in ("TurnaroundLayer", "DependenciesLayer"):
        site = _layer_dir(built, built_template, layer) / "python"
        sources = list(site.rglob("*.py"))
        assert sources
        missing = [
            str(source.relative_to(site))
            for source in sources
            if not (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file()
        ]
        assert not missing, f"{layer}: {len(missing)} of {len(sources)} modules without {tag} .pyc"
        stray = [p for p in site.rglob("*.pyc") if f".{tag}." not in p.name]
        assert not stray, f"{layer} ships bytecode for another Python: {stray[:3]}"


def _tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_each_function_with_its_layers_fits_lambdas_unzipped_limit(
    built: Path, built_template: dict[str, Any]
) -> None:
    layers = sum(
        _tree_bytes(_layer_dir(built, built_template, lid))
        for lid in ("TurnaroundLayer", "DependenciesLayer")
    )
    for logical_id, resource in built_template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert _tree_bytes(built / logical_id) + layers < UNZIPPED_LIMIT_BYTES


# --- running as Lambda would ---------------------------------------------------------------------


def _lambda_python() -> str:
    """A CPython 3.12 to run the artifacts with (the runtime's version: the layer's wheels are cp312)."""
    candidates = [
        os.environ.get("LAMBDA_PYTHON"),
        shutil.which("python3.12"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")), reverse=True),
        "/usr/bin/python3.12",
        "/usr/local/bin/python3.12",
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 12))"], capture_output=True
        )
        if probe.returncode == 0:
            return candidate
    pytest.fail(
        "no CPython 3.12 found to run the built artifacts as the python3.12 runtime would; "
        "set LAMBDA_PYTHON to one (building needs none: only this check does)"
    )


@pytest.fixture(scope="module")
def lambda_root(
    built: Path, built_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """/opt as Lambda lays it out (both layers extracted into one folder) and the runtime's SDK."""
    root = tmp_path_factory.mktemp("lambda")
    for layer in ("TurnaroundLayer", "DependenciesLayer"):
        source = _layer_dir(built, built_template, layer)
        for path in source.rglob("*"):
            if path.is_file():
                target = root / "opt" / path.relative_to(source)
                assert not target.exists(), f"two layers ship {path.relative_to(source)}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(root / "runtime"),
            "-r",
            str(HERE / "lambda_runtime.txt"),
        ],
        check=True,
        timeout=300,
    )
    return root


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Deployed:
    stack: DeployedStack
    endpoint: str
    emulator: XApiEmulator
    complaint_id: str


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    """moto as a server (the built code runs in another process) holding the stack from template.yaml
    with the prod parameters `make deploy ENV=prod` passes, and the X emulator with one complaint."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    overrides = tomllib.loads((ROOT / "samconfig.toml").read_text())["prod"]["deploy"]["parameters"]
    parameters = dict(pair.split("=", 1) for pair in overrides["parameter_overrides"].split())
    emulator = XApiEmulator()
    brand = emulator.add_user(
        parameters["MonitoredHandles"].split(",")[0],
        name="Acme Air",
        followers=250_000,
        verified=True,
        access_token="100-acmetoken",
        access_token_secret="acme-token-secret",
    )
    emulator.add_user("jane", name="Jane Chan", followers=150)
    emulator.add_user("omar", name="Omar Haddad", followers=90)
    emulator.add_post(
        "omar", f"@{brand.username} two hours on hold and still no refund for my cancelled flight"
    )
    complaint = emulator.add_post(
        "jane", f"@{brand.username} my flight was cancelled and nobody at the desk will help, this is awful"
    )
    with pytest.MonkeyPatch.context() as patch, emulator:
        for key, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(key, value)
        try:
            # The stack deploys from template.yaml with exactly samconfig.toml's prod parameters.
            stack = deploy({"XWritesEnabled": "", **parameters})
            prefix = stack.functions["MentionPollerFunction"].environment["X_CREDENTIALS_SECRET_PREFIX"]
            boto3.client("secretsmanager").create_secret(
                Name=f"{prefix}{brand.username}",
                SecretString=json.dumps(
                    {
                        "consumer_key": emulator.consumer_key,
                        "consumer_secret": emulator.consumer_secret,
                        "access_token": "100-acmetoken",
                        "access_token_secret": "acme-token-secret",
                    }
                ),
            )
            with dynamodb_as_in_aws():  # the stream reaches the dispatcher only through this test
                yield Deployed(stack, endpoint, emulator, complaint.id)
        finally:
            server.stop()


# Lambda's paths: the function folder is /var/task, the merged layers /opt, the runtime's SDK
# /var/runtime, all read-only. Code that works out paths from __file__ can pass in a deep scratch
# folder and fail there (a module reached six folders up and every function failed at INIT). Where
# the kernel lets an unprivileged user have a mount namespace (`unshare -rm`), each child sees the
# artifacts at exactly these paths, read-only; elsewhere at the scratch folders, with a warning.
ON_LAMBDAS_PATHS = (
    'mount --bind "$1" /opt && mount -t tmpfs lambda /var && mkdir /var/task /var/runtime && '
    'mount --bind "$2" /var/task && mount --bind "$3" /var/runtime && '
    "for path in /opt /var/task /var/runtime; do mount -o remount,bind,ro $path || exit 1; done && "
    'shift 3 && exec "$@"'
)


@functools.cache
def _lambdas_paths_available() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", ON_LAMBDAS_PATHS, "sh", str(HERE), str(HERE), str(HERE), "true"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def invoke(built: Path, lambda_root: Path, deployed: Deployed, logical_id: str, event: dict[str, Any]) -> Any:
    """One invocation of a built function in a fresh CPython 3.12 process, as a cold Lambda would run it."""
    function = deployed.stack.functions[logical_id]
    on_lambdas_paths = _lambdas_paths_available()
    if on_lambdas_paths:
        task, opt, runtime = Path("/var/task"), Path("/opt"), Path("/var/runtime")
    else:
        warnings.warn(
            "no mount namespace (unshare -rm): the built functions run from scratch folders, not from "
            "/var/task and /opt, so a path worked out from __file__ that only fails there goes unseen",
            stacklevel=2,
        )
        task, opt, runtime = built / logical_id, lambda_root / "opt", lambda_root / "runtime"
    environment = {
        # What Lambda sets.
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",  # the handlers build their collaborators at INIT
        "LAMBDA_TASK_ROOT": str(task),
        "_HANDLER": function.handler,
        "_X_AMZN_TRACE_ID": "Root=1-6741e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{_free_udp_port()}",  # tracing on; segments go nowhere
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        # Local differences, and only these: AWS is the moto server, X is the emulator.
        "AWS_ENDPOINT_URL": deployed.endpoint,
        "X_API_BASE_URL": deployed.emulator.base_url,
    }
    for name, raw in function.environment.items():
        value = str(raw)
        environment[name] = str(opt.parent / value.removeprefix("/")) if value.startswith("/opt/") else value
    command = [_lambda_python(), "-I", "-S", "-B", str(HERE / "lambda_bootstrap.py")]
    if on_lambdas_paths:
        artifacts = [str(lambda_root / "opt"), str(built / logical_id), str(lambda_root / "runtime")]
        command = ["unshare", "-rm", "sh", "-c", ON_LAMBDAS_PATHS, "sh", *artifacts, *command]
    result = subprocess.run(
        [*command, str(task), str(opt), str(runtime), function.handler],
        input=json.dumps(event, default=str),
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(("RESULT ", "ERROR "))]
    assert lines, (
        f"{logical_id} printed no result (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    kind, _, payload = lines[-1].partition(" ")
    assert kind == "RESULT", (
        f"{logical_id} raised: {json.loads(payload)['errorType']}\n{payload}\n{result.stderr}"
    )
    # The layers ship .pyc the runtime's CPython loads (layers/lambda_bytecode.sh): a cold start
    # compiles none of their modules. /opt is read-only in Lambda, so a module compiled here would
    # be compiled again at every cold start.
    [compiled] = [json.loads(line[9:]) for line in result.stdout.splitlines() if line.startswith("COMPILED ")]
    assert compiled == [], f"{logical_id} compiled {len(compiled)} modules of the layers: {compiled[:5]}"
    return json.loads(payload)


def _case_items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(os.environ.get("TABLE_NAME", ""))
    return [item for item in table.scan()["Items"] if item.get("type") == "case"]


def _executions(deployed: Deployed) -> list[str]:
    arn = deployed.stack.outputs["CaseWorkflowStateMachineArn"]
    return [
        e["name"] for e in boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    ]


def _stream_records(deployed: Deployed) -> list[dict[str, Any]]:
    """The table's stream as the event source mapping reads it."""
    mapping = next(
        m
        for m in deployed.stack.streams
        if m.function == deployed.stack.functions["CaseDispatcherFunction"].name
    )
    streams = boto3.client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=mapping.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            records.append({**record, "eventSourceARN": mapping.stream_arn})
    return records


def test_every_built_handler_starts_and_works_against_the_deployed_stack(
    built: Path, lambda_root: Path, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Poll → dispatch → acknowledge → DM poll → link click, each a cold start of a built function."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployed.endpoint)
    monkeypatch.setenv(
        "TABLE_NAME", deployed.stack.functions["MentionPollerFunction"].environment["TABLE_NAME"]
    )
    schedule = json.loads((ROOT / "tests/events/scheduled_poll.json").read_text())

    polled = invoke(built, lambda_root, deployed, "MentionPollerFunction", schedule)
    assert polled["handles"][0]["stored"] == 2 and polled["handles"][0]["cases_opened"] == 2, polled
    [case] = [c for c in _case_items() if c["root_tweet_id"] == deployed.complaint_id]
    [stranded] = [c for c in _case_items() if c["root_tweet_id"] != deployed.complaint_id]

    new_cases = [
        r
        for r in _stream_records(deployed)
        if r["eventName"] == "INSERT"
        and r["dynamodb"]["NewImage"].get("case_id", {}).get("S") == case["case_id"]
    ]
    dispatched = invoke(built, lambda_root, deployed, "CaseDispatcherFunction", {"Records": new_cases})
    assert dispatched == {"batchItemFailures": []}
    assert _executions(deployed) == [case["case_id"]]

    # docs/runbook.md "A new case started no workflow": the other case's record never reached the
    # dispatcher (as if dead-lettered); fed the case item as `aws dynamodb get-item` prints it, the
    # dispatcher starts its workflow, and doing it twice starts nothing more.
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"pk": {"S": f"CASE#{stranded['case_id']}"}, "sk": {"S": "CASE"}},
    )["Item"]
    redrive = {
        "Records": [
            {
                "eventID": "redrive",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {"NewImage": item},
            }
        ]
    }
    for _ in range(2):
        assert invoke(built, lambda_root, deployed, "CaseDispatcherFunction", redrive) == {
            "batchItemFailures": []
        }
    assert sorted(_executions(deployed)) == sorted([case["case_id"], stranded["case_id"]])

    acknowledged = invoke(
        built,
        lambda_root,
        deployed,
        "WorkflowTasksFunction",
        {"task": "acknowledge", "case_id": case["case_id"]},
    )
    assert acknowledged, acknowledged
    [reply] = deployed.emulator.posts_created(by="acmeair")
    assert (
        reply.in_reply_to_tweet_id == deployed.complaint_id
    )  # prod posts for real (XWritesEnabled defaults on)

    digest = invoke(built, lambda_root, deployed, "UnsureDigestFunction", schedule)
    assert digest is not None
    incidents = invoke(built, lambda_root, deployed, "IncidentDigestFunction", schedule)
    assert incidents == {"incidents": {"acmeair": {}}}, incidents  # no incident: nothing to send

    dms = invoke(built, lambda_root, deployed, "DmPollerFunction", schedule)
    assert set(dms["handles"]) == {"acmeair"}

    page = invoke(
        built,
        lambda_root,
        deployed,
        "ActionPageFunction",
        _function_url_get(deployed.stack.outputs["ActionPageUrl"], "?t=forged.c2lnbmF0dXJl"),
    )
    assert page["statusCode"] == 403 and "X-Frame-Options" in page["headers"], page


def _function_url_get(url: str, query: str) -> dict[str, Any]:
    host = url.split("://", 1)[-1].strip("/")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": query.lstrip("?"),
        "queryStringParameters": dict(p.split("=", 1) for p in query.lstrip("?").split("&")),
        "headers": {"host": host},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "mail-scanner",
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
