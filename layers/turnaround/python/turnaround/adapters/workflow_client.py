"""Step Functions calls: start a case's execution, and answer its waiting tasks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from turnaround.exceptions import TaskTokenRejected, TurnaroundError


class WorkflowClient:
    """``client``: Step Functions', or ``make_client`` makes it at the first call (the container's)."""

    def __init__(
        self,
        state_machine_arn: str | None = None,
        *,
        client: Any = None,
        make_client: Callable[[], Any] | None = None,
    ):
        self.state_machine_arn = state_machine_arn
        self._client = client
        self._make_client = make_client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client() if self._make_client else boto3.client("stepfunctions")
        return self._client

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start the execution ``name``; starting it again is a no-op that returns the same ARN."""
        if not self.state_machine_arn:
            raise TurnaroundError("no state machine ARN configured")
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload, default=str)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            region, account = self.state_machine_arn.split(":")[3:5]
            machine = self.state_machine_arn.split(":")[-1]
            return f"arn:aws:states:{region}:{account}:execution:{machine}:{name}"
        return str(response["executionArn"])

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self._answer(
            lambda: self.client.send_task_success(taskToken=token, output=json.dumps(output, default=str))
        )

    def fail(self, token: str, error: str, cause: str) -> None:
        self._answer(lambda: self.client.send_task_failure(taskToken=token, error=error, cause=cause[:32000]))

    @staticmethod
    def _answer(call: Any) -> None:
        try:
            call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                raise TaskTokenRejected(
                    f"Step Functions is no longer waiting: {exc.response['Error']['Code']}"
                ) from exc
            raise
