"""Runs the real ASL on moto's Step Functions interpreter with the task Lambdas invoked in-process.

moto would run a Lambda in Docker; ``InProcessLambdas`` replaces that one step so an invocation
calls the function's real handler (functions/<name>/app.py) in this process, and a raised domain
exception comes back as the FunctionError whose errorType the ASL's Retry and Catch match.
"""

from __future__ import annotations

import base64
import email
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import yaml
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from functions.action_page.app import lambda_handler as action_page
from functions.case_dispatcher.app import lambda_handler as dispatcher
from functions.dm_poller.app import lambda_handler as dm_poller
from functions.mention_poller.app import lambda_handler as poller
from local_cloud.runtime import InProcessLambdas
from tests.lambda_context import FakeLambdaContext
from turnaround.dal.store import MentionStore
from x_emulator import XApiEmulator

ROOT = Path(__file__).resolve().parent.parent
ASL = ROOT / "infrastructure" / "case_workflow.asl.yaml"
PLAYBOOK = ROOT / "infrastructure" / "playbook.yaml"
SCHEDULE = json.loads((ROOT / "tests" / "events" / "scheduled_poll.json").read_text())


def create_function(name: str, role_arn: str) -> str:
    """A Lambda in moto whose invocations InProcessLambdas routes to the real handler."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr(
            "app.py", "def lambda_handler(event, context):\n    raise RuntimeError('in-process')\n"
        )
    return str(
        boto3.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="app.lambda_handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
    )


def create_state_machine(name: str, role_arn: str, substitutions: dict[str, str]) -> str:
    definition = json.dumps(yaml.safe_load(ASL.read_text()))
    for key, value in substitutions.items():
        definition = definition.replace("${" + key + "}", value)
    return str(
        boto3.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=role_arn, type="STANDARD"
        )["stateMachineArn"]
    )


def role() -> str:
    return str(
        boto3.client("iam").create_role(RoleName="turnaround-test", AssumeRolePolicyDocument="{}")["Role"][
            "Arn"
        ]
    )


def wait_until(predicate: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def execution(arn: str) -> dict[str, Any]:
    return dict(boto3.client("stepfunctions").describe_execution(executionArn=arn))


def wait_for_end(arn: str, timeout: float = 30.0) -> dict[str, Any]:
    return wait_until(
        lambda: (e := execution(arn))["status"] != "RUNNING" and e,
        timeout=timeout,
        what=f"execution {arn.rsplit(':', 1)[-1]} to end",
    )


def history(arn: str) -> list[dict[str, Any]]:
    return list(
        boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    )


def states_entered(arn: str) -> list[str]:
    return [e[k]["name"] for e in history(arn) for k in ("stateEnteredEventDetails",) if k in e]


def sent_emails() -> list[Message]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [
        email.message_from_bytes(m.raw_data.encode() if isinstance(m.raw_data, str) else m.raw_data)
        for m in backend.sent_messages
        if hasattr(m, "raw_data")
    ]


def body_of(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


def action_links(message: Message) -> dict[str, str]:
    text = body_of(message, "plain")
    links = {}
    for label, action in (
        ("Resolved:", "resolved"),
        ("Could not resolve:", "not_resolved"),
        ("Reassign:", "reassign"),
    ):
        line = next(line for line in text.splitlines() if line.strip().startswith(label))
        links[action] = line.split(label, 1)[1].strip()
    return links


def function_url_event(method: str, url: str, form: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda Function URL (payload 2.0) event for a GET of ``url`` or a form POST to it."""
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    body = urlencode(form) if form is not None else None
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "queryStringParameters": query or None,
        "headers": {"host": parts.netloc, "content-type": "application/x-www-form-urlencoded"},
        "requestContext": {
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "domainName": parts.netloc,
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
            "accountId": "123456789012",
            "apiId": "x",
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": base64.b64encode(body.encode()).decode() if body is not None else None,
        "isBase64Encoded": body is not None,
    }


class StreamPump:
    """Delivers the table's stream records to the dispatcher the way an event source mapping would."""

    def __init__(self, table_name: str):
        # botocore 1.44 sends stream-ARN calls to <account>.streams-ddb.<region>; moto 5.2.5 only
        # answers on the classic endpoint, so pin it.
        streams = boto3.client(
            "dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com"
        )
        arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.streams = streams

    def pump(self) -> dict[str, Any]:
        response = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = response["NextShardIterator"]
        records = json.loads(json.dumps(response["Records"], default=str))
        return dispatcher({"Records": records}, FakeLambdaContext()) if records else {"batchItemFailures": []}


@dataclass
class Cloud:
    emulator: XApiEmulator
    store: MentionStore
    lambdas: InProcessLambdas
    stream: StreamPump
    state_machine_arn: str

    def poll(self) -> dict[str, Any]:
        self.emulator.clock.advance(1)
        result = poller(SCHEDULE, FakeLambdaContext())
        self.stream.pump()
        return result

    def poll_dms(self) -> dict[str, Any]:
        self.emulator.clock.advance(1)
        return dm_poller(SCHEDULE, FakeLambdaContext())

    def decide(self, address: str, action: str, *, nth: int = -1, **form: str) -> dict[str, Any]:
        """The rep opens the link from their newest email (GET), then confirms (POST)."""
        message = wait_until(lambda: self.emails_to(address), what=f"an email to {address}")[nth]
        link = action_links(message)[action]
        assert self.click(link)["statusCode"] == 200
        return self.click(link, method="POST", **form)

    def execution_arn(self, case_id: str) -> str:
        region, account = self.state_machine_arn.split(":")[3:5]
        return f"arn:aws:states:{region}:{account}:execution:case-workflow:{case_id}"

    def emails_to(self, address: str) -> list[Any]:
        return [m for m in sent_emails() if address in str(m["To"])]

    def click(self, url: str, *, method: str = "GET", **form: str) -> dict[str, Any]:
        if method == "POST":
            token = url.split("?t=", 1)[1]
            return action_page(
                function_url_event("POST", url.split("?", 1)[0], {"t": token, **form}), FakeLambdaContext()
            )
        return action_page(function_url_event("GET", url), FakeLambdaContext())


def write_playbook(path: Path, **sections: dict[str, Any]) -> Path:
    playbook = yaml.safe_load(PLAYBOOK.read_text())
    for section, values in sections.items():
        playbook[section].update(values)
    path.write_text(yaml.safe_dump(playbook))
    return path
