"""The least a handler on this stack's libraries pays at a cold start, with no code of Turnaround's.

The bench runs it as it runs each function (same interpreter, layers, runtime SDK and Lambda
environment): Powertools' Logger, Tracer (X-Ray, botocore patched) and Metrics around the handler as
the cookbook puts them, one pydantic model parsing the event, and one DynamoDB call on one client, the
work every function here does at least once. Its ratio over ``import boto3`` is the floor under
every handler's: what is above it is ours to cut.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class ItemKey(BaseModel):
    pk: str
    sk: str


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, bool]:
    key = ItemKey.model_validate(event)
    found = boto3.client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    )
    return {"found": "Item" in found}
