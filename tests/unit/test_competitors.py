"""A complaint that names a competitor gets no canned "sorry", which could apologise for them; the
case opens as usual and its rep writes the first reply."""

from __future__ import annotations

import pytest

from turnaround.logic.triage import triage
from turnaround.logic.workflow.voice import ack_withheld
from turnaround.models.case import Case
from turnaround.models.mention import Mention
from turnaround.models.playbook import load_playbook

PLAYBOOK = load_playbook()  # the shipped one: competitors [RivalAir]


def _withheld(text: str) -> str | None:
    case = Case.model_validate(
        {
            "case_id": "case-77", "status": "OPEN", "handle": "acmeair", "root_tweet_id": "77",
            "conversation_id": "77", "customer_id": "42", "customer_username": "ann",
            "opened_at": "2026-11-23T08:50:00+00:00",
        }
    )  # fmt: skip
    mention = Mention.model_validate(
        {
            "tweet_id": "77", "handle": "acmeair", "text": text, "created_at": None, "conversation_id": "77",
            "author": {"id": "42", "username": "ann", "name": "Ann"}, "mentions_handle": True,
            "triage": triage(text).model_dump(), "ingested_at": "2026-11-23T08:50:00+00:00",
        }
    )  # fmt: skip
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
