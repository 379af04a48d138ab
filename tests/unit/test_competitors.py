"""A complaint that names a competitor gets no canned "sorry", which could apologise for them; the
case opens as usual and its rep writes the first reply."""

from __future__ import annotations

import pytest

from tests.helpers import triaged_case
from turnaround.logic.workflow.voice import ack_withheld
from turnaround.models.playbook import load_playbook

PLAYBOOK = load_playbook()  # the shipped one: competitors [RivalAir]


def _withheld(text: str) -> str | None:
    case, mention = triaged_case(text)
    return ack_withheld(PLAYBOOK, case, mention)


@pytest.mark.parametrize(
    "text",
    [
        "@rivalair cancelled my flight with no notice, @acmeair please save me, any seats to Denver tonight?",
        "@acmeair your competitor @RivalAir is terrible, their staff were so rude and nobody helped",
    ],
)
def test_a_complaint_naming_a_competitor_gets_no_canned_sorry(text: str) -> None:
    reason = _withheld(text)
    assert reason is not None and reason.lower().startswith("the post names @rivalair, a competitor")


def test_a_complaint_naming_no_competitor_gets_its_ack() -> None:
    assert _withheld("@acmeair you lost my bag and nobody answers the phone, this is awful") is None
    assert PLAYBOOK.competitor_named("email me at ann@rivalair.example") is None  # not a mention
