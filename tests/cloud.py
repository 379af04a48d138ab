"""The tests' view of the embedded cloud (infrastructure/local_cloud): template.yaml deployed into
moto, driven the way its triggers drive it, with a few verbs a test reads well with."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any

import boto3

from local_cloud.cloud import EmbeddedCloud, action_links
from turnaround.dal.repositories import Repositories
from x_emulator import XApiEmulator

BRAND = "acmeair"
BRAND_ID = "100"


def spec(playbook: dict[str, dict[str, Any]], start: str) -> dict[str, Any]:
    """The scenario the workflow tests start from: the brand and two customers, nothing posted."""
    return {
        "start": start,
        "users": [
            {
                "username": BRAND,
                "id": BRAND_ID,
                "name": "Acme Air",
                "followers": 250_000,
                "verified": True,
                "access_token": "100-acmetoken",
                "access_token_secret": "acme-token-secret",
            },
            {"username": "jane", "name": "Jane Chan", "followers": 150_000, "verified": True},
            {"username": "bob", "name": "Bob Stone", "followers": 40},
        ],
        "playbook": playbook,
    }


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


def states_entered(arn: str) -> list[str]:
    events = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def body_of(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


@dataclass
class Cloud:
    deployed: EmbeddedCloud

    @property
    def emulator(self) -> XApiEmulator:
        return self.deployed.emulator

    @property
    def store(self) -> Repositories:
        return Repositories(self.deployed.table_name)

    @property
    def lambdas(self) -> Any:
        return self.deployed.lambdas

    @property
    def action_url(self) -> str:
        return self.deployed.action_url

    @property
    def state_machine_arn(self) -> str:
        return self.deployed.stack.state_machine_arn

    def _fire(self, logical_id: str) -> dict[str, Any]:
        self.emulator.clock.advance(1)
        [(result, errored)] = self.deployed.fire(logical_id)
        assert not errored, result
        return dict(result)

    def poll(self) -> dict[str, Any]:
        """The mention poller's schedule fires; the stream then reaches the dispatcher."""
        result = self._fire("MentionPollerFunction")
        self.deployed.deliver_stream()
        return result

    def poll_dms(self) -> dict[str, Any]:
        return self._fire("DmPollerFunction")

    def invoke(self, logical_id: str, event: dict[str, Any]) -> tuple[Any, bool]:
        return self.deployed.lambdas.invoke(self.deployed.function_name(logical_id), event)

    def execution_arn(self, case_id: str) -> str:
        return self.deployed.execution_arn(case_id)

    def emails_to(self, address: str) -> list[Message]:
        return [m for m in self.deployed.emails() if address in str(m["To"])]

    def click(self, url: str, *, method: str = "GET", **form: str) -> dict[str, Any]:
        """A rep's browser on the function URL: GET the link, or POST its confirm form."""
        response = self.deployed.click(url, method=method, **form)
        return {"statusCode": response.status_code, "body": response.text}

    def decide(self, address: str, action: str, *, nth: int = -1, **form: str) -> dict[str, Any]:
        """The rep opens the link from their newest email with links (GET), then confirms (POST); a
        customer's DM forwarded into the thread carries none."""
        message = wait_until(
            lambda: [m for m in self.emails_to(address) if action_links(m)], what=f"an email to {address}"
        )[nth]
        link = action_links(message)[action]
        assert self.click(link)["statusCode"] == 200
        return self.click(link, method="POST", **form)
