"""One Step Functions workflow per complaint: the real ASL on moto's interpreter, task handlers
in-process, X through the emulator over HTTP, email through moto's SES."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from functions.action_page.app import lambda_handler as action_page
from functions.case_dispatcher.app import lambda_handler as dispatcher
from functions.mention_poller.app import lambda_handler as poller
from functions.workflow_tasks.app import lambda_handler as workflow_tasks
from tests.conftest import BRAND_ID
from tests.lambda_context import FakeLambdaContext
from tests.workflow_harness import (
    InProcessLambdas,
    action_links,
    body_of,
    create_function,
    create_state_machine,
    execution,
    role,
    sent_emails,
    states_entered,
    wait_for_end,
    wait_until,
)
from turnaround.adapters.store import MentionStore
from x_emulator import XApiEmulator

PLAYBOOK = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"
SCHEDULE = json.loads((Path(__file__).parent.parent / "events" / "scheduled_poll.json").read_text())


class StreamPump:
    """Delivers the table's stream records to the dispatcher the way an event source mapping would."""

    def __init__(self, table_name: str):
        # botocore 1.44 sends stream-ARN calls to <account>.streams-ddb.<region>; moto 5.2.5 only
        # answers on the classic endpoint, so pin it.
        streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
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

    def execution_arn(self, case_id: str) -> str:
        region, account = self.state_machine_arn.split(":")[3:5]
        return f"arn:aws:states:{region}:{account}:execution:case-workflow:{case_id}"

    def emails_to(self, address: str) -> list[Any]:
        return [m for m in sent_emails() if address in str(m["To"])]

    def click(self, url: str, *, method: str = "GET", **form: str) -> dict[str, Any]:
        from tests.workflow_harness import function_url_event

        if method == "POST":
            token = url.split("?t=", 1)[1]
            return action_page(function_url_event("POST", url.split("?", 1)[0], {"t": token, **form}),
                               FakeLambdaContext())
        return action_page(function_url_event("GET", url), FakeLambdaContext())


def write_playbook(path: Path, **sections: dict[str, Any]) -> Path:
    playbook = yaml.safe_load(PLAYBOOK.read_text())
    for section, values in sections.items():
        playbook[section].update(values)
    path.write_text(yaml.safe_dump(playbook))
    return path


@pytest.fixture
def playbook_overrides() -> dict[str, dict[str, Any]]:
    return {"sla": {"rep_response_seconds": 600, "supervisor_response_seconds": 600},
            "follow_up": {"delay_seconds": 0, "window_seconds": 30}}


@pytest.fixture
def cloud(poller_env, monkeypatch, tmp_path, emulator, table_name, playbook_overrides) -> Iterator[Cloud]:
    boto3.client("ses").verify_domain_identity(Domain="acmeair.example")
    secret = boto3.client("secretsmanager").create_secret(Name="turnaround/action-links",
                                                          SecretString="s" * 64)["ARN"]
    arn_role = role()
    machine = create_state_machine("case-workflow", arn_role,
                                   {"WorkflowTasksFunctionArn": create_function("workflow-tasks", arn_role)})
    for key, value in {"ACTION_URL": "https://actions.turnaround.test/", "ACTION_LINK_SECRET_NAME": secret,
                       "STATE_MACHINE_ARN": machine,
                       "PLAYBOOK_PATH": str(write_playbook(tmp_path / "playbook.yaml", **playbook_overrides))}.items():
        monkeypatch.setenv(key, value)
    lambdas = InProcessLambdas()
    lambdas.register("workflow-tasks", workflow_tasks)
    emulator.add_user("jane", name="Jane Chan", followers=150_000, verified=True)
    emulator.add_user("bob", name="Bob Stone", followers=40)
    with lambdas.active():
        yield Cloud(emulator, MentionStore(table_name), lambdas, StreamPump(table_name), machine)


SAM = "sam.evans@acmeair.example"
ALEX = "alex.brown@acmeair.example"


def test_simple_complaint_is_acknowledged_publicly_and_settled_by_the_rep(cloud):
    post = cloud.emulator.add_post("bob", "@acmeair my order is late, tracking hasn't moved since Monday")
    cloud.poll()
    case_id = f"case-{post.id}"
    arn = cloud.execution_arn(case_id)

    [email] = wait_until(lambda: cloud.emails_to(SAM), what="the escalation email")
    [ack] = cloud.emulator.posts_created(by="acmeair")
    assert ack.in_reply_to_tweet_id == post.id and ack.text.startswith("@bob ") and ack.text.endswith("/SE")
    assert ack.direct_message_deep_link is None  # simple: stays public
    assert "Bob" in ack.text and len(ack.text) <= 280

    links = action_links(email)
    page = cloud.click(links["resolved"])
    assert page["statusCode"] == 200 and "Mark as resolved" in page["body"]
    assert execution(arn)["status"] == "RUNNING"  # a GET (or a mail scanner) changes nothing
    done = cloud.click(links["resolved"], method="POST", note="Courier re-booked, arrives Friday")
    assert done["statusCode"] == 200

    final = wait_for_end(arn)
    assert final["status"] == "SUCCEEDED"
    case = cloud.store.get_case(case_id)
    assert case["status"] == "CLOSED" and case["outcome"] == "resolved"
    assert case["resolution_note"] == "Courier re-booked, arrives Friday"
    assert case["first_response_at"] and case["resolved_at"] and case["closed_at"]
    assert len(cloud.emulator.posts_created(by="acmeair")) == 1  # no reply left to ask a follow-up on
    assert cloud.emulator.violations == []
