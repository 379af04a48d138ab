"""DmMailFunction sees every mention item that joins a case (its stream filter cannot tell a case's
first post from a later one). The post that opened the case is never forwarded (its escalation email
shows it), so it must not cost a read of the case: one GetItem per complaint, for nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import a_complaint
from turnaround.logic.reply_mail.reply_desk import ReplyDesk


class _NoReads:
    @property
    def cases(self) -> Any:
        raise AssertionError("read the case")


def _image(tweet_id: str, case_id: str) -> dict[str, Any]:
    return {**a_complaint(tweet_id).model_dump(mode="json"), "case_id": case_id}


def _desk() -> ReplyDesk:
    return ReplyDesk(store=_NoReads(), x_for=None, mailer=None, signer=None, playbook=None)  # type: ignore[arg-type]


def test_the_post_that_opened_the_case_is_not_forwarded_and_reads_nothing() -> None:
    assert _desk().forward_customer_post(_image("1900", "case-1900")) is False


def test_a_later_post_in_the_case_thread_reads_the_case_to_decide() -> None:
    with pytest.raises(AssertionError, match="read the case"):
        _desk().forward_customer_post(_image("1901", "case-1900"))
