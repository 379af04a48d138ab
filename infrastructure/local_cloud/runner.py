"""`make run`: the whole system on the embedded cloud, driven by a scenario on a simulated clock.

One loop tick advances X's clock by ``tick`` simulated seconds, fires the template's schedules whose
period has passed, delivers the table's stream to its mapped function (as an event source mapping
would, with the template's filter), and clicks the reps' scripted links. Step Functions waits and
heartbeats run in real time on moto's interpreter, so the playbook's timings are divided by
``scale`` (simulated seconds per real second) before the workflow sees them.

Local-only differences from a deployment, and nothing else: X_API_BASE_URL points tweepy at the
emulator, /opt/python/turnaround/playbook.yaml is the scaled playbook, credentials are fake, and
X-Ray is off.
"""

from __future__ import annotations

import email
import html
import json
import logging
import os
import re
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qs, urlsplit

import boto3
import requests
import yaml
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local_cloud.faults import FaultPlan
from local_cloud.inbound_mail import LocalSesInbound, ScriptedReplies, start_sandbox_mail
from local_cloud.streams import StreamDeliveries
from turnaround import clock

if TYPE_CHECKING:  # imported when a run starts: importing moto patches botocore
    from local_cloud.runtime import InProcessLambdas
    from local_cloud.stack import DeployedStack
    from x_emulator import XApiEmulator

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "infrastructure" / "scenarios" / "demo.yaml"
PLAYBOOK = ROOT / "infrastructure" / "playbook.yaml"
SECRET_PREFIX = "turnaround/x-credentials/"
REGION = "us-east-1"


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


def _rate_seconds(expression: str) -> float:
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


@dataclass
class RepAction:
    post: str
    action: str
    after: float = 600
    note: str = ""
    to: str = "rep"
    reassign_to: str | None = None
    done: bool = False


@dataclass
class RunResult:
    cases: list[dict[str, Any]]
    emulator_state: dict[str, Any]
    emails: list[Message]
    progress: list[str]
    keys: dict[str, str]
    seconds: float
    simulated_seconds: float
    executions: list[dict[str, Any]] = field(default_factory=list)
    invocations_ms: list[tuple[str, float]] = field(default_factory=list)
    mentions_expected: list[str] = field(default_factory=list)
    mentions_stored: list[str] = field(default_factory=list)
    state_transitions: int = 0
    stream_records_dropped: int = 0

    def case_for(self, key: str) -> dict[str, Any] | None:
        root = self.keys.get(key)
        return next((c for c in self.cases if c.get("root_tweet_id") == root), None)


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
class Deployment:
    emulator: XApiEmulator  # started
    keys: dict[str, str]  # scenario post keys -> post ids
    stack: DeployedStack
    lambdas: InProcessLambdas  # active: moto's Lambda invocations call these handlers
    inbound: LocalSesInbound | None = None  # SES receiving, when the stack has ReplyEmailDomain


class LocalRun:
    def __init__(
        self,
        scenario: Path = DEMO,
        *,
        scale: float = 600,
        tick: float = 60,
        out: Path = ROOT / "out",
        until: float = 8 * 3600,
        stream: TextIO | None = None,
        faults: FaultPlan | None = None,
    ):
        self.scenario_path, self.scale, self.tick, self.out, self.until = scenario, scale, tick, out, until
        self.stream = stream
        self.progress: list[str] = []
        self.spec = yaml.safe_load(scenario.read_text())
        self.faults = faults or FaultPlan("none")
        self.inbound: LocalSesInbound | None = None
        self.scripted = ScriptedReplies([], None)  # the scenario's rep_replies (issue 15)
        self.smtp_port, self.inbox_port = 2525, 8025  # make sandbox's mail servers, on loopback

    # --- output ----------------------------------------------------------------------------------

    def say(self, sim: datetime, text: str) -> None:
        line = f"{sim.strftime('%H:%M')}  {text}"
        self.progress.append(line)
        if self.stream:
            print(line, file=self.stream, flush=True)

    # --- setup -----------------------------------------------------------------------------------

    def _scaled_playbook(self, directory: Path) -> Path:
        playbook = yaml.safe_load(PLAYBOOK.read_text())
        for section, values in (self.spec.get("playbook") or {}).items():
            playbook[section].update(values)
        for section, keys in {
            "sla": ("rep_response_seconds", "supervisor_response_seconds"),
            "follow_up": ("delay_seconds", "window_seconds"),
        }.items():
            for key in keys:
                playbook[section][key] = max(1, round(playbook[section][key] / self.scale))
        path = directory / "opt" / "python" / "turnaround" / "playbook.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(playbook, sort_keys=False))
        return path

    def run(self, *, sandbox: bool = False) -> RunResult:
        started = time.monotonic()
        with self.deployed(sandbox=sandbox) as cloud:
            self.inbound = cloud.inbound
            result = self._loop(cloud.emulator, cloud.keys, cloud.stack, cloud.lambdas, sandbox=sandbox)
        result.seconds = time.monotonic() - started
        return result

    @contextmanager
    def deployed(self, *, sandbox: bool = False, execute_workflows: bool = True) -> Iterator[Deployment]:
        """The scenario's X emulator and the stack deployed into moto, with every function's handler
        running in-process and X's simulated clock as the functions' clock. `make bench` drives
        this itself; with execute_workflows off, StartExecution only records the execution."""
        _environment()
        from moto import mock_aws

        from local_cloud.cfn_models import LocalFunctionUrl
        from local_cloud.moto_fixes import dynamodb_as_in_aws
        from local_cloud.runtime import InProcessLambdas, merged_environment, reset_process_state
        from local_cloud.stack import deploy
        from x_emulator import load_scenario

        reset_process_state()
        spec = dict(self.spec)
        emulator, keys = load_scenario(spec)
        brand = str(spec.get("brand") or next(u["username"] for u in spec["users"] if u.get("access_token")))
        brand_user = emulator.world.require_user(brand)
        server = ActionServer()
        LocalFunctionUrl.base_url = server.bind(8787 if sandbox else 0)
        with (
            tempfile.TemporaryDirectory() as scratch,
            mock_aws(config={"stepfunctions": {"execute_state_machine": execute_workflows}}),
            emulator,
        ):
            playbook_path = self._scaled_playbook(Path(scratch))
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
            stack = deploy(
                {
                    "MonitoredHandles": brand,
                    "XCredentialsSecretPrefix": SECRET_PREFIX,
                    "Stage": "local",
                    "ReplyEmailDomain": reply_domain,
                }
            )
            inbound = (
                LocalSesInbound(
                    stack.outputs["InboundMailBucketName"],
                    stack.functions["InboundEmailFunction"].name,
                    reply_domain,
                )
                if "InboundEmailFunction" in stack.functions
                else None
            )
            self.out.mkdir(parents=True, exist_ok=True)
            for stale in (self.out / "mail").glob("*"):  # this run's emails only
                stale.unlink()
            log = (self.out / "lambda.log").open("w")
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
            mail_servers: list[Any] = []
            if sandbox and inbound is not None:
                mail_servers = start_sandbox_mail(
                    inbound,
                    self.out / "mail",
                    lambda line: self.say(emulator.clock.now(), line),
                    smtp_port=self.smtp_port,
                    inbox_port=self.inbox_port,
                )
            self.say(
                emulator.clock.now(),
                f"stack deployed from template.yaml: {len(stack.functions)} functions, "
                f"{len(stack.schedules)} schedules, "
                f"state machine {stack.state_machine_arn.rsplit(':', 1)[-1]}",
            )
            try:
                for fault in self.faults.x_faults:
                    emulator.inject_fault(**fault)
                # A container's one-off import of twitter-text's emoji tables (~1.4 s) would stall the
                # simulated clock by 14 minutes mid-run; pay it before the clock starts.
                from turnaround.tweet_length import weighted_length

                weighted_length("warm-up")
                clock.use(emulator.clock.now)  # the functions live in X's simulated time
                with lambdas.active(), self.faults.active(), dynamodb_as_in_aws():
                    yield Deployment(emulator, keys, stack, lambdas, inbound)
            finally:
                for running in mail_servers:
                    running.stop()
                clock.use(None)
                os.environ.clear()
                os.environ.update(saved_environment)  # a run leaves the caller's environment as it was
                server.stop()
                logging.getLogger("moto").removeHandler(moto_logs)
                powertools_logger.logger_handler.setStream(previous_stream)  # type: ignore[attr-defined]
                log.close()

    # --- the loop --------------------------------------------------------------------------------

    def _loop(
        self, emulator: Any, keys: dict[str, str], stack: Any, lambdas: Any, *, sandbox: bool
    ) -> RunResult:

        table = boto3.resource("dynamodb").Table(stack.outputs["TableName"])
        start = emulator.clock.now()
        next_fire = {rule: start for rule, _, _ in stack.schedules}
        deliveries = StreamDeliveries.start(stack, REGION)
        dropped = 0
        actions = [RepAction(**a) for a in self.spec.get("rep_actions") or []] if not sandbox else []
        self.scripted = ScriptedReplies([] if sandbox else self.spec.get("rep_replies") or [], self.inbound)
        last_event = max(
            [
                float(p.get("at", 0)) + float(p.get("every", 1)) * (int(p.get("repeat", 1)) - 1)
                for p in self.spec.get("posts") or []
            ]
            + [float(d.get("at", 0)) for d in self.spec.get("dms") or []]
            + [0]
        )
        seen: dict[str, Any] = {"posts": 0, "dms": 0, "retweets": 0, "emails": 0, "cases": {}}
        email_times: dict[str, list[tuple[datetime, Message]]] = {}
        sfn = boto3.client("stepfunctions")
        real_start = time.monotonic()
        while True:
            loop_start = time.monotonic()
            # X's clock follows real time times the scale, so it agrees with the Step Functions timers
            # (which run in real time on the scaled playbook); a slow tick simply covers more time.
            emulator.clock.set(
                max(emulator.clock.now(), start + timedelta(seconds=(loop_start - real_start) * self.scale))
            )
            now = emulator.clock.now()
            elapsed = (now - start).total_seconds()
            for rule, expression, function in stack.schedules:
                if now >= next_fire[rule]:
                    next_fire[rule] = now + timedelta(seconds=_rate_seconds(expression))
                    event = scheduled_event(rule, now)
                    copies = 2 if self.faults.duplicate_schedules else 1  # two pollers at once
                    for result, errored in lambdas.invoke_together(function, event, copies=copies):
                        self._report_poll(now, function, result, errored)
            deliveries.pump(lambdas, REGION)
            if len(deliveries.dropped) > dropped:
                self.say(
                    now,
                    f"!! {len(deliveries.dropped) - dropped} stream records dropped after their last retry",
                )
                dropped = len(deliveries.dropped)
            self._observe(now, emulator, table, seen, email_times, keys)
            for action in actions:
                self._maybe_click(now, action, keys, email_times, table)
            self.scripted.tick(now, keys, self.say)
            running = [
                e
                for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
                if e["status"] == "RUNNING"
            ]
            delivering = any(d.pending for d in deliveries.deliveries)
            finished = (
                elapsed > last_event
                and not running
                and not delivering
                and all(a.done for a in actions)
                and self.scripted.done
            )
            if (finished and not sandbox) or elapsed >= self.until:
                break
            time.sleep(max(0.0, self.tick / self.scale - (time.monotonic() - loop_start)))
        self._observe(emulator.clock.now(), emulator, table, seen, email_times, keys)
        cases = [i for i in self._scan(table) if i.get("type") == "case"]
        executions = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        transitions = sum(
            1
            for e in executions
            for event in sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]
            if event["type"].endswith("StateEntered")
        )
        return RunResult(
            cases=cases,
            emulator_state=emulator.state(),
            emails=self._emails(),
            progress=self.progress,
            keys=keys,
            seconds=0.0,
            simulated_seconds=(emulator.clock.now() - start).total_seconds(),
            executions=[dict(e) for e in executions],
            invocations_ms=list(lambdas.durations_ms),
            mentions_expected=self._expected_mentions(emulator),
            mentions_stored=[str(i["tweet_id"]) for i in self._scan(table) if i.get("type") == "mention"],
            state_transitions=transitions,
            stream_records_dropped=len(deliveries.dropped),
        )

    @staticmethod
    def _expected_mentions(emulator: Any) -> list[str]:
        """What ingest must store: visible posts mentioning a monitored handle, not ours, not retweets."""
        brand = next(u for u in emulator.world.users.values() if u.access_token)
        return [
            p.id for p in emulator.world.mentions_of(brand) if p.author_id != brand.id and not p.retweet_of
        ]

    def _report_poll(self, now: datetime, function: str, result: Any, errored: bool) -> None:
        if errored:
            self.say(
                now,
                f"!! {function.split('-')[1]} failed: "
                f"{result.get('errorType')}: {result.get('errorMessage')}",
            )
            return
        for handle in result.get("handles", []) if isinstance(result.get("handles"), list) else []:
            if handle.get("stored"):
                self.say(
                    now,
                    f"ingested {handle['stored']} mention(s) for @{handle['handle']} "
                    f"({handle['cases_opened']} new case(s), {handle['attached_to_case']} joined a case, "
                    f"{handle['skipped_own'] + handle['skipped_retweets']} skipped)",
                )
        if isinstance(result.get("handles"), dict):
            for handle, counts in result["handles"].items():
                if counts.get("received"):
                    self.say(
                        now,
                        f"DMs for @{handle}: {counts['received']} received, {counts['threaded']} threaded, "
                        f"{counts['confirmations']} confirmation sent, {counts['refused']} refused",
                    )

    @staticmethod
    def _scan(table: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _emails() -> list[Message]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return [
            email.message_from_string(m.raw_data)
            for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
            if hasattr(m, "raw_data")
        ]

    def _observe(
        self,
        now: datetime,
        emulator: Any,
        table: Any,
        seen: dict[str, Any],
        email_times: dict[str, list[tuple[datetime, Message]]],
        keys: dict[str, str],
    ) -> None:
        users = emulator.world.users
        for post in emulator.posts_created()[seen["posts"] :]:
            if post.retweet_of:
                continue
            kind = "acknowledged" if post.direct_message_deep_link is None else "acknowledged + DM invite"
            if post.text in self.scripted.texts:
                kind = "rep's reply (by email), public"
            self.say(now, f"{kind}: {post.text[:110]}")
        seen["posts"] = len(emulator.posts_created())
        for dm in emulator.dms_sent()[seen["dms"] :]:
            by_rep = " (rep's reply by email)" if dm.text in self.scripted.texts else ""
            self.say(now, f"DM to @{users[dm.recipient_id].username}{by_rep}: {dm.text[:100]}")
        seen["dms"] = len(emulator.dms_sent())
        for _, tweet_id in emulator.retweets[seen["retweets"] :]:
            self.say(now, f"amplified: retweeted @{users[emulator.world.posts[tweet_id].author_id].username}")
        seen["retweets"] = len(emulator.retweets)
        emails = self._emails()
        for number, message in enumerate(emails[seen["emails"] :], seen["emails"] + 1):
            case_id = str(message.get("X-Turnaround-Case", ""))
            email_times.setdefault(case_id, []).append((now, message))
            self.scripted.saw_email(now, message)
            html_file = save_email(self.out / "mail", number, message)  # readable while the run goes on
            self.say(
                now, f"emailed {message['To']}: {message['Subject']}  [{html_file.relative_to(self.out)}]"
            )
        seen["emails"] = len(emails)
        for case in (i for i in self._scan(table) if i.get("type") == "case"):
            before = seen["cases"].get(case["case_id"], {})
            for field_name, label in (
                ("resolved_at", "resolved"),
                ("unresolved_at", "could not resolve"),
                ("follow_up_asked_at", "follow-up asked"),
                ("follow_up_at", "follow-up post"),
                ("opted_out", "customer opted out"),
                ("dm_refused", "DM refused"),
                ("closed_at", "closed"),
            ):
                if case.get(field_name) and not before.get(field_name):
                    detail = f" ({case.get('outcome')})" if field_name == "closed_at" else ""
                    self.say(now, f"{case['case_id']} @{case['customer_username']}: {label}{detail}")
            seen["cases"][case["case_id"]] = case

    def _maybe_click(
        self,
        now: datetime,
        action: RepAction,
        keys: dict[str, str],
        email_times: dict[str, list[tuple[datetime, Message]]],
        table: Any,
    ) -> None:
        if action.done or action.post not in keys:
            return
        received = email_times.get(f"case-{keys[action.post]}", [])
        if action.to == "supervisor":
            received = [(t, m) for t, m in received if str(m["Subject"]).startswith("Escalated")]
        if not received or (now - received[-1][0]).total_seconds() < action.after:
            return
        message = received[-1][1]
        link = _link(message, action.action)
        page = requests.get(link, timeout=10)
        token = parse_qs(urlsplit(link).query)["t"][0]
        form = {"t": token, "note": action.note}
        if action.reassign_to:
            form["reassign_to"] = action.reassign_to
        confirmed = requests.post(link.split("?", 1)[0], data=form, timeout=10)
        # A 409 means a newer email (reminder, supervisor) replaced this one: act on that instead.
        action.done = confirmed.status_code == 200
        self.say(
            now,
            f"rep clicked '{action.action}' for {action.post} (GET {page.status_code}, "
            f"POST {confirmed.status_code})",
        )


def _link(message: Message, action: str) -> str:
    labels = {"resolved": "Resolved:", "not_resolved": "Could not resolve:", "reassign": "Reassign:"}
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            text = payload.decode() if isinstance(payload, bytes) else ""
            for line in text.splitlines():
                if line.strip().startswith(labels[action]):
                    return line.split(labels[action], 1)[1].strip()
    raise ValueError(f"no {action} link in {message['Subject']}")


# --- reporting -----------------------------------------------------------------------------------


def summarise(result: RunResult, scale: float) -> str:
    outcomes = Counter(str(c.get("outcome", c.get("status"))) for c in result.cases)
    first = sorted(
        (
            datetime.fromisoformat(c["first_response_at"]) - datetime.fromisoformat(c["opened_at"])
        ).total_seconds()
        for c in result.cases
        if c.get("first_response_at")
    )
    resolution = sorted(
        (datetime.fromisoformat(c["resolved_at"]) - datetime.fromisoformat(c["opened_at"])).total_seconds()
        / 3600
        for c in result.cases
        if c.get("resolved_at")
    )
    state = result.emulator_state
    lines = ["", "Summary", "-------"]
    lines.append(
        f"cases: {len(result.cases)}  " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    )
    if first:
        lines.append(
            # Case timestamps are simulated; the work behind them took real time, `scale` times less.
            f"first response after ingest: median {first[len(first) // 2] / scale:.2f} s, "
            f"max {first[-1] / scale:.2f} s (real)"
        )
    if resolution:
        lines.append(f"resolution: median {resolution[len(resolution) // 2]:.1f} h (simulated)")
    lines.append(f"X calls: {sum(state['calls'].values())} " + json.dumps(state["calls"], sort_keys=True))
    lines.append(
        f"X spend: ${state['spend_usd']:.3f} at the 2026 price list "
        + json.dumps(state["spend_by_operation"], sort_keys=True)
    )
    lines.append(
        f"posts {len(state['posts_created'])}, DMs {len(state['dms_sent'])}, retweets "
        f"{len(state['retweets'])}, emails {len(result.emails)}"
    )
    lines.append(
        f"rule violations: {len(state['violations'])}"
        + ("" if not state["violations"] else " " + json.dumps(state["violations"]))
    )
    lines.append(
        f"wall time {result.seconds:.1f} s for {result.simulated_seconds / 3600:.1f} simulated hours"
    )
    return "\n".join(lines)


def save_email(mail: Path, number: int, message: Message) -> Path:
    """Write one email as .eml and .html (its HTML part) so a person can open it; returns the .html."""
    mail.mkdir(parents=True, exist_ok=True)
    thread = message.get("X-Turnaround-Case") or message.get("X-Turnaround-Thread") or "ops"
    stem = f"{number:02d}-{thread}-{str(message['To']).split('@')[0]}"
    (mail / f"{stem}.eml").write_bytes(message.as_bytes())
    html_file = mail / f"{stem}.html"
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            html_file.write_bytes(payload if isinstance(payload, bytes) else b"")
    return html_file


def write_outputs(result: RunResult, out: Path, summary: str) -> Path:
    rows = []
    for n, message in enumerate(result.emails, 1):
        stem = save_email(out / "mail", n, message).stem
        rows.append(
            f"<li><a href='mail/{stem}.html'>{html.escape(str(message['Subject']))}</a> "
            f"to {html.escape(str(message['To']))} (<a href='mail/{stem}.eml'>.eml</a>)</li>"
        )
    cases = "".join(
        f"<tr><td>{html.escape(str(c['case_id']))}</td><td>@{html.escape(str(c.get('customer_username')))}</td>"
        f"<td>P{c.get('priority')}</td><td>{html.escape(str(c.get('route')))}</td>"
        f"<td>{html.escape(str(c.get('outcome', c.get('status'))))}</td>"
        f"<td>{html.escape(str(c.get('amplification', '')))}</td></tr>"
        for c in result.cases
    )
    report = out / "report.html"
    report.write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>Turnaround run</title></head>
<body style="font-family: sans-serif"><h1>Turnaround: local run</h1>
<pre>{html.escape(summary)}</pre>
<h2>Cases</h2><table border="1" cellpadding="4"><tr><th>case</th><th>customer</th><th>priority</th>
<th>route</th><th>outcome</th><th>amplification</th></tr>{cases}</table>
<h2>Emails</h2><ul>{"".join(rows)}</ul>
<h2>Progress</h2><pre>{html.escape(chr(10).join(result.progress))}</pre></body></html>""")
    return report
