"""Seeded, bounded faults for the embedded cloud (`make faults`): X errors through the emulator,
DynamoDB write throttling and SES rejections inside moto, a Lambda killed after its side effect but
before recording it, and every schedule firing twice."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.dynamodb.exceptions import DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend

from turnaround.dal.outbox import OutboxRepository

SandboxTimedout = type("Sandbox.Timedout", (Exception,), {})  # what Step Functions sees for a killed Lambda


class Throttled(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            "ProvisionedThroughputExceededException",
            message="The level of configured provisioned throughput for the table was exceeded.",
        )


@dataclass
class FaultPlan:
    name: str
    seed: int = 7
    x_faults: list[dict[str, Any]] = field(default_factory=list)  # emulator.inject_fault(**each)
    dynamodb_write_throttle: float = 0.0  # chance per write call; boto3 retries throttling itself
    ses_rejects: int = 0  # the first N emails are rejected
    kills_after_effect: int = 0  # the first N effects die between happening and being recorded
    duplicate_schedules: bool = False  # every schedule fires twice, both copies running at once
    injected: Counter[str] = field(default_factory=Counter)

    @contextmanager
    def active(self) -> Iterator[FaultPlan]:
        chance = random.Random(self.seed)
        plan = self
        with ExitStack() as stack:
            if self.dynamodb_write_throttle:
                for method in ("put_item", "update_item", "transact_write_items"):
                    original = getattr(DynamoDBBackend, method)

                    def throttled(backend: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                        if chance.random() < plan.dynamodb_write_throttle:
                            plan.injected["dynamodb throttled"] += 1
                            raise Throttled()
                        return _original(backend, *args, **kwargs)

                    stack.enter_context(mock.patch.object(DynamoDBBackend, method, throttled))
            if self.ses_rejects:
                send = SESBackend.send_raw_email

                def rejecting(backend: Any, *args: Any, **kwargs: Any) -> Any:
                    if plan.injected["ses rejected"] < plan.ses_rejects:
                        plan.injected["ses rejected"] += 1
                        raise MessageRejectedError("Email address is on the suppression list (injected)")
                    return send(backend, *args, **kwargs)

                stack.enter_context(mock.patch.object(SESBackend, "send_raw_email", rejecting))
            if self.kills_after_effect:
                complete = OutboxRepository.complete

                def dying(outbox: OutboxRepository, key: str, **result: Any) -> None:
                    if plan.injected["killed after effect"] < plan.kills_after_effect:
                        plan.injected["killed after effect"] += 1
                        raise SandboxTimedout(f"Task timed out after recording nothing for {key}")
                    complete(outbox, key, **result)

                stack.enter_context(mock.patch.object(OutboxRepository, "complete", dying))
            yield self
