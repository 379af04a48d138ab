"""The embedded cloud: template.yaml deployed into moto beside the X emulator, every function's
handler running in-process. `make run`, `make bench`, the fault suite and the tests all use this one.

Local-only differences from a deployment, and nothing else: X_API_BASE_URL points tweepy at the
emulator, /opt/python/turnaround/playbook.yaml is the scaled playbook, credentials are fake, and
X-Ray is off.
"""

from __future__ import annotations

import email
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import boto3
import requests
import yaml
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local_cloud.faults import FaultPlan
from local_cloud.inbound_mail import LocalSesInbound
from local_cloud.streams import StreamDeliveries
from turnaround import clock
from turnaround.playbook_file import write_compiled

if TYPE_CHECKING:  # imported when a cloud starts: importing moto patches botocore
    from local_cloud.runtime import InProcessLambdas
    from local_cloud.stack import DeployedStack
    from x_emulator import XApiEmulator

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "infrastructure" / "playbook.yaml"
SECRET_PREFIX = "turnaround/local/x-credentials/"  # the template's per-stage prefix, Stage=local
REGION = "us-east-1"
# The rep email's plain-text lines that carry each action link (logic/workflow/emails.py writes them).
LINK_LABELS = {
    "resolved": "Resolved:",
    "not_resolved": "Could not resolve:",
    "reassign": "Reassign:",
    "retweet": "Retweet:",
    "no_retweet": "Do not retweet:",
}


def _environment() -> None:
    # moto warns once per resource type it cannot build (alarms, EventInvokeConfig; the template
    # check test lists those) and its interpreter logs internal errors; both go to out/lambda.log.
    warnings.filterwarnings("ignore", module="moto")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "turnaround",
        "POWERTOOLS_METRICS_NAMESPACE": "Turnaround",
        "LOG_LEVEL": "ERROR",
    }.items():
        os.environ.setdefault(key, value)


def rate_seconds(expression: str) -> float:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"unsupported schedule {expression!r}: use rate(N minutes|hours|days)")
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]


def scheduled_event(rule: str, now: datetime) -> dict[str, Any]:
    """What EventBridge Scheduler hands a function when its rule fires."""
    from x_emulator.world import iso

    return {
        "version": "0",
        "id": rule,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": iso(now),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{rule}"],
        "detail": {},
    }


def _plain_lines(message: Message) -> list[str]:
    """The lines of an email's plain-text parts: what a person reads its links from."""
    lines: list[str] = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            lines += (payload.decode() if isinstance(payload, bytes) else "").splitlines()
    return lines


def action_links(message: Message) -> dict[str, str]:
    """The action links of a rep's email, read from its plain-text part as a person would."""
    links: dict[str, str] = {}
    for line in _plain_lines(message):
        for action, label in LINK_LABELS.items():
            if line.strip().startswith(label):
                links[action] = line.split(label, 1)[1].strip()
    return links


def end_incident_link(message: Message) -> str | None:
    """An incident digest's "End the incident now" link, read from its plain-text part."""
    found = [line.strip() for line in _plain_lines(message) if "/incident?t=" in line]
    return found[-1] if found else None


def sent_emails() -> list[Message]:
    """Every email moto's SES has accepted, oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        email.message_from_string(m.raw_data)
        for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        if hasattr(m, "raw_data")
    ]


class ActionServer:
    """Serves the function URL on loopback: each HTTP request becomes a Function URL event."""

    def __init__(self) -> None:
        self._server: BaseWSGIServer | None = None
        self.function_name = ""

    def bind(self, port: int = 0) -> str:
        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._server = make_server("127.0.0.1", port, self._app, threaded=True, request_handler=Quiet)
        return f"http://127.0.0.1:{self._server.server_port}/"

    def start(self) -> None:
        assert self._server is not None
        threading.Thread(target=self._server.serve_forever, daemon=True, name="action-server").start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(as_text=True)
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode(),
            "queryStringParameters": dict(request.args) or None,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "requestContext": {
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.remote_addr or "",
                    "userAgent": request.user_agent.string,
                },
                "domainName": request.host,
                "requestId": "local",
                "routeKey": "$default",
                "stage": "$default",
                "accountId": "123456789012",
                "apiId": "local",
                "time": "",
                "timeEpoch": 0,
            },
            "body": body or None,
            "isBase64Encoded": False,
        }
        invoked = boto3.client("lambda").invoke(FunctionName=self.function_name, Payload=json.dumps(event))
        result = json.loads(invoked["Payload"].read())
        if "FunctionError" in invoked:
            response = Response(f"function error: {result.get('errorType')}", status=502)
        else:
            response = Response(
                result.get("body", ""),
                status=result.get("statusCode", 200),
                headers=result.get("headers") or {},
            )
        return response(environ, start_response)


@dataclass
class EmbeddedCloud:
    """A deployed stack, driven as its triggers would drive it: schedules fire the pollers, the
    table's stream reaches the dispatcher through the template's mapping, reps click email links
    over HTTP to the function URL."""

    emulator: XApiEmulator  # started
    keys: dict[str, str]  # scenario post keys -> post ids
    stack: DeployedStack
    lambdas: InProcessLambdas  # active: moto's Lambda invocations call these handlers
    action_url: str  # the function URL, served on loopback
    inbound: LocalSesInbound | None = (
        None  # SES receiving (S3 then Lambda), when the stack has a reply domain
    )
    deliveries: StreamDeliveries = field(init=False)

    def __post_init__(self) -> None:
        self.deliveries = StreamDeliveries.start(self.stack, REGION)

    @property
    def table_name(self) -> str:
        return str(self.stack.outputs["TableName"])

    def function_name(self, logical_id: str) -> str:
        return self.stack.functions[logical_id].name

    def fire(self, logical_id: str, *, copies: int = 1) -> list[tuple[Any, bool]]:
        """The schedule of one function fires now; returns each copy's (result, errored)."""
        name = self.function_name(logical_id)
        rule = next(rule for rule, _, function in self.stack.schedules if function == name)
        event = scheduled_event(rule, self.emulator.clock.now())
        return self.lambdas.invoke_together(name, event, copies=copies)

    def deliver_stream(self) -> None:
        """What the table's stream has gained reaches its mapped functions (filter, batch, retries)."""
        self.deliveries.pump(self.lambdas, REGION)

    def execution_arn(self, case_id: str) -> str:
        """The execution the dispatcher starts for a case (it is named after the case)."""
        machine = self.stack.state_machine_arn
        return machine.replace(":stateMachine:", ":execution:") + f":{case_id}"

    def emails(self) -> list[Message]:
        return sent_emails()

    def click(self, url: str, *, method: str = "GET", **form: str) -> requests.Response:
        """Open an email link (GET shows the confirm page) or submit its form (POST)."""
        if method == "POST":
            token = parse_qs(urlsplit(url).query).get("t", [""])[0]
            return requests.post(url.split("?", 1)[0], data={"t": token, **form}, timeout=10)
        return requests.request(method, url, timeout=10)


def stop_workflows(state_machine_arn: str) -> None:
    """Stop the executions still running when a run ends. moto runs each on a daemon thread that
    outlives the cloud: left alone, one would go on invoking handlers whose log is closed."""
    sfn = boto3.client("stepfunctions")
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING"
    ):
        for execution in page["executions"]:
            try:
                sfn.stop_execution(executionArn=execution["executionArn"], cause="the local run ended")
            except Exception:  # moto cannot stop one whose thread has not begun: lambdas.stop() does
                continue


def scaled_playbook(directory: Path, overrides: dict[str, dict[str, Any]], scale: float) -> Path:
    """The playbook as the layer would ship it, with the scenario's overrides and its waits divided by
    `scale` (Step Functions' timers run in real time on moto's interpreter)."""
    playbook = yaml.safe_load(PLAYBOOK.read_text())
    for section, values in overrides.items():
        playbook.setdefault(section, {}).update(values)  # or adds an optional section
    for section, keys in {
        "sla": ("rep_response_seconds", "urgent_rep_response_seconds", "supervisor_response_seconds"),
        "follow_up": ("delay_seconds", "window_seconds"),
    }.items():
        for key in keys:
            if playbook[section].get(key) is not None:  # urgent_rep_response_seconds is optional
                playbook[section][key] = max(1, round(playbook[section][key] / scale))
    path = directory / "opt" / "python" / "turnaround" / "playbook.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    write_compiled(path)  # and its JSON copy, as the layer build writes it
    return path


@contextmanager
def embedded_cloud(
    spec: dict[str, Any],
    *,
    out: Path,
    scale: float = 1,
    port: int = 0,
    execute_workflows: bool = True,
    faults: FaultPlan | None = None,
) -> Iterator[EmbeddedCloud]:
    """The scenario's X emulator and template.yaml deployed into moto, every function's handler
    running in-process, X's simulated clock as the functions' clock. The functions' output goes to
    out/lambda.log. With execute_workflows off, StartExecution only records the execution."""
    _environment()
    from moto import mock_aws

    from local_cloud.cfn_models import LocalFunctionUrl
    from local_cloud.moto_fixes import dynamodb_as_in_aws
    from local_cloud.runtime import InProcessLambdas, merged_environment, reset_process_state
    from local_cloud.stack import deploy
    from local_cloud.wait_clock import timestamp_waits_on_the_functions_clock
    from turnaround.models.playbook import load_playbook
    from x_emulator import load_scenario

    faults = faults or FaultPlan("none")
    reset_process_state()
    emulator, keys = load_scenario(dict(spec))
    brand = str(spec.get("brand") or next(u["username"] for u in spec["users"] if u.get("access_token")))
    brand_user = emulator.world.require_user(brand)
    server = ActionServer()
    LocalFunctionUrl.base_url = action_url = server.bind(port)
    with (
        tempfile.TemporaryDirectory() as scratch,
        mock_aws(config={"stepfunctions": {"execute_state_machine": execute_workflows}}),
        emulator,
    ):
        playbook_path = scaled_playbook(Path(scratch), spec.get("playbook") or {}, scale)
        # Validated as the layer will load it (every template rendered): a bad playbook stops the
        # run here with the template and variable named, before any workflow can trip on it.
        load_playbook(str(playbook_path))
        sender_domain = yaml.safe_load(playbook_path.read_text())["sender_email"].split("@")[1]
        boto3.client("ses").verify_domain_identity(Domain=sender_domain)
        boto3.client("secretsmanager").create_secret(
            Name=f"{SECRET_PREFIX}{brand}",
            SecretString=json.dumps(
                {
                    "consumer_key": emulator.consumer_key,
                    "consumer_secret": emulator.consumer_secret,
                    "access_token": brand_user.access_token,
                    "access_token_secret": brand_user.access_token_secret,
                }
            ),
        )
        reply_domain = f"reply.{sender_domain}"
        stack = deploy({"MonitoredHandles": brand, "Stage": "local", "ReplyEmailDomain": reply_domain})
        inbound = (
            LocalSesInbound(
                stack.outputs["InboundMailBucketName"],
                stack.functions["InboundEmailFunction"].name,
                reply_domain,
            )
            if "InboundEmailFunction" in stack.functions
            else None
        )
        out.mkdir(parents=True, exist_ok=True)
        log = (out / "lambda.log").open("w")
        from turnaround.observability import logger as powertools_logger

        # Powertools' handler holds the stdout it saw at import; point it at the log for the run.
        previous_stream = powertools_logger.logger_handler.setStream(log)  # type: ignore[attr-defined]
        moto_logs = logging.StreamHandler(log)
        logging.getLogger("moto").addHandler(moto_logs)
        logging.getLogger("moto").propagate = False
        lambdas = InProcessLambdas(log=log)
        environments = {}
        for function in stack.functions.values():
            environment = {name: str(value) for name, value in function.environment.items()}
            for name, value in environment.items():  # the layer's /opt, as the local scratch copy
                if value.startswith("/opt/"):
                    environment[name] = str(Path(scratch) / value.removeprefix("/"))
            environment["X_API_BASE_URL"] = emulator.base_url
            environments[function.name] = environment
            lambdas.register_module(function.name, function.module, function.attribute)
        saved_environment = dict(os.environ)
        os.environ.update(merged_environment(environments))
        server.function_name = stack.functions["ActionPageFunction"].name
        server.start()
        try:
            for fault in faults.x_faults:
                emulator.inject_fault(**fault)
            # A container's one-off import of twitter-text's emoji tables (~1.4 s) would stall the
            # simulated clock by 14 minutes mid-run; pay it before the clock starts.
            from turnaround.logic.reply_mail.tweet_length import weighted_length

            weighted_length("warm-up")
            clock.use(emulator.clock.now)  # the functions live in X's simulated time
            with (
                lambdas.active(),
                faults.active(),
                dynamodb_as_in_aws(),
                timestamp_waits_on_the_functions_clock(),
            ):
                try:
                    yield EmbeddedCloud(emulator, keys, stack, lambdas, action_url, inbound)
                finally:
                    stop_workflows(stack.state_machine_arn)
                    lambdas.stop()
        finally:
            clock.use(None)
            os.environ.clear()
            os.environ.update(saved_environment)  # a run leaves the caller's environment as it was
            server.stop()
            logging.getLogger("moto").removeHandler(moto_logs)
            powertools_logger.logger_handler.setStream(previous_stream)  # type: ignore[attr-defined]
            log.close()
