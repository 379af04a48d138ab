"""Storm mode's AWS calls against each function's deployed role: the paths the demo never takes (an
incident, its digests, the reps' loads, the ack queue), recorded as test_least_privilege does. Its own
module: the demo's deployed stack is gone before this one is deployed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_cloud.access import AwsCall, Role, denied_calls
from local_cloud.runner import ROOT, LocalRun
from tests.e2e.test_least_privilege import recorded_run

STORM = ROOT / "infrastructure" / "scenarios" / "storm.yaml"


@pytest.fixture(scope="module")
def storm(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, set[AwsCall]], dict[str, Role]]]:
    """The storm scenario: the paths the demo never takes (an incident, its digests, reps' loads)."""
    yield from recorded_run(LocalRun(STORM, scale=400, out=tmp_path_factory.mktemp("storm")))


def test_in_a_storm_every_call_the_code_makes_is_allowed_by_its_role(storm) -> None:
    """Storm mode's calls too: AWS refused the workflow's read of an incident's case list (a query
    on the table, not its index), which failed Assign for every incident case at digest time."""
    calls, roles = storm
    assert AwsCall("dynamodb:Query", leading_key="INCIDENT#") in calls["WorkflowTasksFunction"]
    assert calls["IncidentDigestFunction"], "the digest schedule ran"
    # The supervisor ended the incident from a digest: the action page read and marked it.
    assert AwsCall("dynamodb:UpdateItem", leading_key="INCIDENT#") in calls["ActionPageFunction"]
    # A pile-on counted towards the delays topic and opened its incident from the DM-mail stream.
    assert AwsCall("dynamodb:UpdateItem", leading_key="TOPIC#") in calls["DmMailFunction"]
    assert AwsCall("dynamodb:PutItem", leading_key="INCIDENT#") in calls["DmMailFunction"]
    denied = denied_calls(calls, roles)
    assert not denied, denied
