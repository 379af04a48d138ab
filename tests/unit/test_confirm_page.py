"""The confirm page a rep opens from a case email's "Resolved" / "Could not resolve" link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from turnaround.logic.rep_actions.desk import unkept_promise
from turnaround.logic.rep_actions.pages import confirm_page
from turnaround.models.case import Case

ACK = "@bob Sorry about this, Bob. We're on it and will update you here shortly (ref 123456). /SE"


def _case(**changes: object) -> Case:
    return Case.model_validate(
        {
            "case_id": "case-123456", "status": "OPEN", "handle": "acmeair", "root_tweet_id": "1",
            "conversation_id": "1", "customer_id": "9", "customer_username": "bob", "route": "public",
            "opened_at": datetime(2026, 11, 23, 9, tzinfo=UTC), "ack_tweet_id": "2", "ack_text": ACK,
            **changes,
        }
    )  # fmt: skip


def test_closing_a_public_case_nobody_updated_shows_the_promise_our_ack_made() -> None:
    page = confirm_page(
        action="resolved", token="t", case=_case(), mention=None, unkept_promise=unkept_promise(_case())
    )
    assert "still\nwaiting to hear from us" in page and "will update you here shortly" in page


@pytest.mark.parametrize(
    "changes",
    [
        {"rep_replied_at": datetime(2026, 11, 23, 10, tzinfo=UTC)},  # a rep's reply went out
        {"route": "offline"},  # the ack invited a DM; it promised no public update
        {"ack_tweet_id": None, "ack_text": None},  # no ack reached them
    ],
)
def test_no_warning_once_the_customer_heard_from_a_rep_or_nothing_was_promised(
    changes: dict[str, object],
) -> None:
    assert unkept_promise(_case(**changes)) is None
    page = confirm_page(action="resolved", token="t", case=_case(**changes), mention=None)
    assert "waiting to hear from us" not in page
