"""Shared fixtures: fake AWS (moto) built from template.yaml, and the X API emulator on loopback."""

from __future__ import annotations

import os

# Powertools reads these when its objects are created, at import time in Lambda too; set them before
# any handler module is imported so tests see what a deployed function sees.
for _key, _value in {
    "POWERTOOLS_SERVICE_NAME": "turnaround",
    "POWERTOOLS_METRICS_NAMESPACE": "Turnaround",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_key] = _value

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_cloud.access import AwsCallLog, calls_by_role, denied_calls, deployed_roles
from local_cloud.cloud import embedded_cloud
from local_cloud.runtime import reset_process_state
from tests.cloud import BRAND, BRAND_ID, Cloud, spec
from tests.helpers import X_TIMEOUT, create_table_from_template
from turnaround.adapters.x_api import XApi, XCredentials
from turnaround.dal.repositories import Repositories
from turnaround.settings import get_settings
from x_emulator import SimulatedClock, XApiEmulator

TABLE = "turnaround-test"
SECRET_PREFIX = "turnaround/x-credentials/"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The bad-input suite reports how many inputs it tried; the fault suite, its runs and counts."""
    import sys

    module = sys.modules.get("tests.unit.test_bad_input")
    tried = getattr(module, "TRIED", None)
    if tried:
        terminalreporter.write_line(
            f"bad-input suite: {sum(tried.values())} inputs tried {dict(sorted(tried.items()))}"
        )
    triage_figures = {
        **getattr(sys.modules.get("tests.unit.test_triage_model"), "FIGURES", {}),
        **getattr(sys.modules.get("tests.unit.test_triage"), "FIGURES", {}),
    }
    if triage_figures:
        # The shipped weights' figures on real labelled posts kept out of the repository (the model
        # card's "not trained on" table, measured by make train-triage MEASURE=...), beside this run's.
        from turnaround.logic.triage_model import load_model

        measured = load_model().card.get("measured", {})
        triage_figures |= {f"{name} (model card, measured when trained)": f for name, f in measured.items()}
    for name, figures in triage_figures.items():
        terminalreporter.write_line(
            f"triage, {name}: n={figures['n']} recall {figures['complaint_recall']} precision "
            f"{figures['complaint_precision']} F1 {figures['complaint_f1']} praise apologised "
            f"{figures['praise_apologised']} unsure {figures['unsure_rate']} "
            f"dropped {figures['complaints_dropped']}"
        )
    faults = getattr(sys.modules.get("tests.faults.test_fault_suite"), "REPORT", None)
    if faults:
        terminalreporter.write_line(f"fault suite: {len(faults)} runs")
        for line in faults:
            terminalreporter.write_line(f"  {line}")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Fake credentials so nothing can reach real AWS, and Powertools quiet and local.
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "turnaround",
        "POWERTOOLS_METRICS_NAMESPACE": "Turnaround",
        "POWERTOOLS_DEV": "false",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(key, value)
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture
def aws() -> Iterator[None]:
    # execute_state_machine: moto runs the real ASL instead of recording executions.
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture
def table_name(aws: None) -> str:
    create_table_from_template(boto3.client("dynamodb"), TABLE)
    return TABLE


@pytest.fixture
def store(table_name: str) -> Repositories:
    return Repositories(table_name)


@dataclass
class Brand:
    username: str
    id: str
    credentials: XCredentials


@pytest.fixture
def clock() -> SimulatedClock:
    # Noon UTC today, not the wall clock: X bills a post read once per UTC day, so a test started
    # near midnight would see its reads billed twice (a run at 23:44 UTC failed that way).
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return SimulatedClock(noon)


@pytest.fixture
def emulator(clock: SimulatedClock) -> Iterator[XApiEmulator]:
    emulator = XApiEmulator(clock=clock, app_owner=BRAND)
    emulator.add_user(
        BRAND,
        id=BRAND_ID,
        name="Acme Air",
        followers=250_000,
        verified=True,
        access_token="100-acmetoken",
        access_token_secret="acme-token-secret",
    )
    with emulator:
        yield emulator


@pytest.fixture
def brand(emulator: XApiEmulator) -> Brand:
    return Brand(
        BRAND,
        BRAND_ID,
        XCredentials(
            consumer_key=emulator.consumer_key,
            consumer_secret=emulator.consumer_secret,  # type: ignore[arg-type]
            access_token="100-acmetoken",
            access_token_secret="acme-token-secret",
        ),
    )  # type: ignore[arg-type]


@pytest.fixture
def x_api(emulator: XApiEmulator, brand: Brand) -> XApi:
    return XApi(brand.credentials, base_url=emulator.base_url, timeout=X_TIMEOUT)


@pytest.fixture
def brand_secret(aws: None, brand: Brand) -> str:
    name = f"{SECRET_PREFIX}{brand.username}"
    boto3.client("secretsmanager").create_secret(
        Name=name, SecretString=json.dumps({k: v.get_secret_value() for k, v in brand.credentials})
    )
    return name


@pytest.fixture
def poller_env(
    monkeypatch: pytest.MonkeyPatch, table_name: str, emulator: XApiEmulator, brand_secret: str
) -> dict[str, Any]:
    env = {
        "TABLE_NAME": table_name,
        "MONITORED_HANDLES": BRAND,
        "X_CREDENTIALS_SECRET_PREFIX": SECRET_PREFIX,
        "X_API_BASE_URL": emulator.base_url,
        "X_HTTP_TIMEOUT_SECONDS": "1",
        "X_WRITES_ENABLED": "true",
        "X_MAX_RESULTS": "100",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return env


# --- the workflow: template.yaml deployed into the embedded cloud (tests/cloud.py) ---------------


@pytest.fixture
def playbook_overrides() -> dict[str, dict[str, Any]]:
    return {
        "sla": {"rep_response_seconds": 600, "supervisor_response_seconds": 600},
        "follow_up": {"delay_seconds": 0, "window_seconds": 30},
    }


@pytest.fixture
def cloud(tmp_path: Path, playbook_overrides: dict[str, dict[str, Any]]) -> Iterator[Cloud]:
    """The stack deployed from template.yaml into moto, with the X emulator; the functions' clock is
    X's simulated clock, started at the real time."""
    scenario = spec(playbook_overrides, start=datetime.now(UTC).isoformat())
    with AwsCallLog().active() as log, embedded_cloud(scenario, out=tmp_path / "cloud") as deployed:
        yield Cloud(deployed)
        # moto does not enforce IAM: every call a function made in the test must be one its
        # deployed role allows, or AWS would have refused it (the paths the demo never takes too).
        denied = denied_calls(calls_by_role(log, deployed.stack), deployed_roles(deployed.stack))
        assert not denied, f"AWS would refuse these calls (the role does not allow them): {denied}"
