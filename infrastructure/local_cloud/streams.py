"""The table's stream delivered the way a Lambda event source mapping delivers it: the template's
filter, batches of BatchSize in stream order, and on failure a retry from the first failed record
(ReportBatchItemFailures) or of the whole batch, on the next pump, until MaximumRetryAttempts; then
the batch is dropped, as AWS drops it when no on-failure destination is set, and the drop is
reported. BisectBatchOnFunctionError is not modelled: a failing batch is retried whole."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:  # both import moto, which the runner imports only when a run starts
    from local_cloud.runtime import InProcessLambdas
    from local_cloud.stack import DeployedStack, StreamMapping

# botocore 1.44 sends stream-ARN calls to <account>.streams-ddb.<region>; moto 5.2.5 only answers
# on the classic endpoint, so pin it.
CLASSIC_ENDPOINT = "https://streams.dynamodb.{region}.amazonaws.com"


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """The subset of EventBridge/Lambda filter pattern matching that template.yaml uses: nested
    keys, lists of values, and the ``prefix`` content filter."""
    for key, expected in pattern.items():
        value = record.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif not any(_matches_one(option, value) for option in expected):
            return False
    return True


def _matches_one(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        if set(option) != {"prefix"}:
            raise ValueError(f"filter {option} is not modelled by the local cloud")
        return isinstance(value, str) and value.startswith(option["prefix"])
    return bool(value == option)


@dataclass
class Delivery:
    mapping: StreamMapping
    iterator: str
    patterns: list[dict[str, Any]]
    pending: list[dict[str, Any]] = field(default_factory=list)  # filtered, not yet processed
    attempts: int = 0  # failed attempts at the batch at the head of `pending`


@dataclass
class StreamDeliveries:
    deliveries: list[Delivery]
    dropped: list[dict[str, Any]] = field(default_factory=list)  # records given up on

    @classmethod
    def start(cls, stack: DeployedStack, region: str) -> StreamDeliveries:
        streams = cls._client(region)
        deliveries = []
        for mapping in stack.streams:
            description = streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]
            iterator = streams.get_shard_iterator(
                StreamArn=mapping.stream_arn,
                ShardId=description["Shards"][0]["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            deliveries.append(Delivery(mapping, iterator, [json.loads(f) for f in mapping.filters]))
        return cls(deliveries)

    @staticmethod
    def _client(region: str) -> Any:
        return boto3.client("dynamodbstreams", endpoint_url=CLASSIC_ENDPOINT.format(region=region))

    def pump(self, lambdas: InProcessLambdas, region: str) -> None:
        """Read what the stream has gained, then deliver batches until one fails or none is left."""
        streams = self._client(region)
        for delivery in self.deliveries:
            response = streams.get_records(ShardIterator=delivery.iterator)
            delivery.iterator = response["NextShardIterator"]
            records = json.loads(json.dumps(response["Records"], default=str))
            delivery.pending += [
                r for r in records if not delivery.patterns or any(matches(p, r) for p in delivery.patterns)
            ]
            while delivery.pending and self._deliver_one_batch(delivery, lambdas):
                pass

    def _deliver_one_batch(self, delivery: Delivery, lambdas: InProcessLambdas) -> bool:
        """True when the batch is done with (processed, or dropped after its last retry)."""
        mapping = delivery.mapping
        batch = delivery.pending[: mapping.batch_size]
        result, errored = lambdas.invoke(mapping.function, {"Records": batch})
        failed = (
            {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures") or []}
            if not errored and mapping.report_batch_item_failures
            else set()
        )
        if not errored and not failed:
            delivery.pending, delivery.attempts = delivery.pending[len(batch) :], 0
            return True
        if not errored:  # checkpoint up to the first failed record; retry from there
            first = next((i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), 0)
            delivery.pending = delivery.pending[first:]
        delivery.attempts += 1
        if 0 <= mapping.maximum_retry_attempts < delivery.attempts:
            given_up = delivery.pending[: mapping.batch_size]
            self.dropped += given_up
            delivery.pending, delivery.attempts = delivery.pending[len(given_up) :], 0
            return True
        return False
