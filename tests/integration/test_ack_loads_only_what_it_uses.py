"""The ack of an offline case outside an incident does not judge the post again: the triage cues
(dozens of regular expressions, VADER) are the mention poller's, and loading them on the workflow's
first call cost its cold start ~30 ms (issue 17)."""

from __future__ import annotations

import pytest

from tests.conftest import BRAND
from tests.helpers import x_only_workflow
from turnaround.logic import triage
from turnaround.logic.ingest.mentions import MentionIngestor


def _judged_again(text: str, lang: str | None = None) -> list[str]:
    raise AssertionError("the ack judged the post's topics again")


def test_an_offline_ack_outside_an_incident_uses_the_stored_triage(
    emulator, x_api, store, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.add_user("ann", name="Ann Lee", followers=300)
    post = emulator.add_post("ann", "@acmeair my bag is lost and nobody answers the phone")
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    mention = store.mentions.get(post.id)
    assert mention.triage.goes_offline and mention.case_id

    monkeypatch.setattr(triage, "offline_topics", _judged_again)
    result = x_only_workflow(store, x_api).acknowledge(mention.case_id)

    assert result["acknowledged"] and result["offline"]
    (reply,) = emulator.posts_created(by=BRAND)
    assert reply.in_reply_to_tweet_id == post.id
