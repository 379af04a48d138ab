"""X-Ray in high-volume functions: a batch of per-item AWS calls is one subsegment, not one per call
(observability.one_subsegment / calls_not_traced); every other call keeps its own."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.test_cold_path import run_fresh, traced_in_lambda

CALLS = """
import json
import os
import socket

daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # stands in for the X-Ray daemon
daemon.bind(("127.0.0.1", 0))
daemon.settimeout(0.5)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:%d" % daemon.getsockname()[1]

import boto3
from botocore.stub import Stubber
from turnaround.observability import calls_not_traced, one_subsegment, tracer

client = boto3.client("dynamodb", region_name="us-east-1")
stub = Stubber(client)
for _ in range(4):
    stub.add_response("describe_limits", {})
stub.add_client_error("describe_limits", "ConditionalCheckFailedException")
stub.activate()
with tracer.provider.in_subsegment("## handler") as handler:
    client.describe_limits()
    with one_subsegment("store mentions") as batch:
        client.describe_limits()
        client.describe_limits()
        with calls_not_traced():
            client.describe_limits()
    try:
        with one_subsegment("failing batch"):
            client.describe_limits()
    except Exception:
        pass
sent = []  # every document the SDK sent, with its subsegments, flattened
try:
    while True:
        document = json.loads(daemon.recv(65536).decode().split("\\n", 1)[1])
        todo = [document]
        while todo:
            entity = todo.pop()
            sent.append({"name": entity["name"], "error": "cause" in entity})
            todo += entity.get("subsegments", [])
except socket.timeout:
    pass
print(json.dumps(sent))
"""


def test_calls_in_a_batch_are_one_subsegment_and_others_keep_theirs(tmp_path: Path) -> None:
    seen = json.loads(
        run_fresh(
            CALLS,
            **traced_in_lambda(tmp_path),
            AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
        )
    )
    names = sorted(entity["name"] for entity in seen)
    # one call outside a batch, the two batches, the handler: the batches' four calls have none
    assert names == sorted(["## handler", "dynamodb", "## store mentions", "## failing batch"])
    assert [e["name"] for e in seen if e["error"]] == ["## failing batch"]  # its error is recorded


def test_with_tracing_off_a_batch_has_no_subsegment() -> None:
    code = (
        "from turnaround.observability import calls_not_traced, one_subsegment\n"
        "with one_subsegment('store mentions') as batch, calls_not_traced():\n"
        "    print(batch)\n"
    )
    assert run_fresh(code, POWERTOOLS_TRACE_DISABLED="true") == "None"
