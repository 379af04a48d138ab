"""The container's session loads botocore's data without walking every service folder (issue 17):
same services, same models, same errors for a misspelt service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.loaders import Loader

from turnaround.adapters import aws
from turnaround.adapters.aws_models import ServiceFolderLoader, botocore_session


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset()
    yield
    aws.reset()


def test_the_container_session_uses_the_folder_loader() -> None:
    loader = aws.session()._session.get_component("data_loader")
    assert isinstance(loader, ServiceFolderLoader)
    assert aws.client("dynamodb").meta.service_model.service_name == "dynamodb"
    assert aws.table("t").name == "t"


@pytest.mark.parametrize("kind", ["service-2", "endpoint-rule-set-1"])
def test_it_lists_the_services_botocore_lists(kind: str) -> None:
    """Every service folder holds its model and endpoint rules: the folder scan is botocore's answer."""
    assert ServiceFolderLoader().list_available_services(kind) == Loader().list_available_services(kind)


def test_it_loads_the_data_botocore_loads_in_the_same_order() -> None:
    """Plain dicts where botocore makes OrderedDicts: equal, keys in the same order throughout."""
    ours, theirs = ServiceFolderLoader(), Loader()

    def same(a: Any, b: Any) -> None:
        if isinstance(b, dict):
            assert isinstance(a, dict) and list(a) == list(b)
            for key in b:
                same(a[key], b[key])
        elif isinstance(b, list):
            assert isinstance(a, list) and len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                same(x, y)
        else:
            assert a == b

    for service in ("dynamodb", "stepfunctions", "ses", "secretsmanager", "s3", "bedrock-runtime"):
        for kind in ("service-2", "endpoint-rule-set-1"):
            same(ours.load_service_model(service, kind), theirs.load_service_model(service, kind))
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        same(ours.load_data(name), theirs.load_data(name))
    assert type(ours.load_data("endpoints")) is dict


def test_a_misspelt_service_is_still_unknown() -> None:
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        boto3.session.Session(botocore_session=botocore_session()).client("dynamodbb")


def test_aws_data_path_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = botocore_session().get_component("data_loader")
    assert str(tmp_path) in loader.search_paths
