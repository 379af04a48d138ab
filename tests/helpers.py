"""Test helpers: read template.yaml (CloudFormation tags included) and build moto resources from it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Keeps !Ref, !Sub, !GetAtt ... as {"Ref": ...} / {"Fn::X": ...} dicts."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@cache
def load_template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def resource(name: str) -> dict[str, Any]:
    return load_template()["Resources"][name]


def create_table_from_template(
    dynamodb_client: Any, table_name: str, logical_id: str = "TurnaroundTable"
) -> None:
    """Create the table exactly as template.yaml declares it (keys, GSIs, stream, TTL)."""
    props = resource(logical_id)["Properties"]
    dynamodb_client.create_table(
        TableName=table_name,
        BillingMode=props["BillingMode"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
        StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]},
    )
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb_client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
