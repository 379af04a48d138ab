"""Retention: the playbook's `retention` days become DynamoDB TTL (`expires_at`, the table's TTL
attribute in template.yaml) on DMs, closed cases and what belongs only to them, and completed outbox
items; an open case and a pending outbox claim never carry one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.cloud import Cloud, wait_for_end, wait_until
from tests.helpers import resource
from turnaround.dal.cases import pointer_key
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import ConfigurationError
from turnaround.models.case import CaseMessage, CaseStatus, StoredDm
from turnaround.models.mention import Author, Mention, Triage
from turnaround.models.playbook import SOURCE, Retention, load_playbook

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RETENTION = Retention(dms_days=40, closed_cases_days=90, outbox_days=500)
ALEX = "alex.brown@acmeair.example"


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


@pytest.fixture
def kept(table_name: str) -> Repositories:
    return Repositories(table_name, retention=RETENTION, clock=lambda: NOW)


def _item(store: Repositories, pk: str, sk: str) -> dict[str, Any]:
    return store.table.get_item(Key={"pk": pk, "sk": sk})["Item"]


def test_the_template_deletes_items_by_the_attribute_the_code_writes():
    ttl = resource("TurnaroundTable")["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_the_shipped_playbook_sets_retention_and_it_is_bounded(tmp_path):
    shipped = load_playbook(str(SOURCE)).retention
    assert shipped == Retention(dms_days=180, closed_cases_days=365, outbox_days=400)
    for bad in ({"dms_days": 30}, {"outbox_days": 365}, {"closed_cases_days": 0}, {"keep": 1}):
        text = SOURCE.read_text().replace("retention:", "retention_was:")
        path = tmp_path / "playbook.yaml"
        lines = "\n".join(f"  {k}: {v}" for k, v in bad.items())
        path.write_text(text.split("retention_was:")[0] + f"retention:\n{lines}\n")
        with pytest.raises(ConfigurationError, match="retention"):
            load_playbook.__wrapped__(str(path))


def test_every_dm_expires_its_days_after_it_was_sent(kept):
    sent = NOW - timedelta(days=3)
    dm = {"direction": "customer", "text": "hi", "sender_id": "9"}
    assert kept.dms.record(StoredDm(event_id="1", case_id="case-7", created_at=sent, **dm))
    assert kept.dms.record(StoredDm(event_id="2", case_id=None, created_at=None, **dm))
    assert _item(kept, "DM#1", "DM")["expires_at"] == _epoch(sent + timedelta(days=40))
    assert _item(kept, "DM#2", "DM")["expires_at"] == _epoch(NOW + timedelta(days=40))  # no date: now


def test_an_outbox_claim_expires_only_once_its_effect_is_recorded(kept):
    assert kept.outbox.claim("case-7#ack", claimed_at=NOW) is None
    assert "expires_at" not in _item(kept, "OUTBOX#case-7#ack", "OUTBOX")  # pending: kept for ever
    kept.outbox.complete("case-7#ack", result_id="55")
    done = _item(kept, "OUTBOX#case-7#ack", "OUTBOX")
    assert done["state"] == "DONE" and done["expires_at"] == _epoch(NOW + timedelta(days=500))


def _open_case(store: Repositories, case_id: str, conversation_id: str) -> None:
    store.table.put_item(
        Item={
            "pk": f"CASE#{case_id}",
            "sk": "CASE",
            "type": "case",
            "case_id": case_id,
            "status": CaseStatus.OPEN,
            "handle": "acmeair",
            "root_tweet_id": conversation_id,
            "conversation_id": conversation_id,
            "customer_id": "9",
            "customer_username": "jane",
            "opened_at": NOW.isoformat(),
        }
    )
    store.table.put_item(
        Item={**pointer_key(conversation_id, "9"), "case_id": case_id, "starts_thread": True}
    )


def test_a_closed_case_expires_with_its_thread_pointer_and_messages(kept):
    _open_case(kept, "case-7", "7")
    message = CaseMessage(
        case_id="case-7", key="k1", at=NOW, author="Alex", channel="email", text="t", outcome="posted"
    )
    kept.conversation.record(message)
    assert "expires_at" not in _item(kept, "MESSAGE#case-7#k1", "MESSAGE")  # its case is open
    closed = NOW + timedelta(days=2)
    case = kept.cases.get("case-7")
    assert case is not None
    expires_at = kept.cases.closed(case, at=closed, outcome="resolved")
    assert expires_at == _epoch(closed + timedelta(days=90))
    assert _item(kept, "CASE#case-7", "CASE")["expires_at"] == expires_at
    assert _item(kept, "CONVERSATION#7", "CASE#9")["expires_at"] == expires_at
    kept.conversation.expire("case-7", expires_at)
    assert _item(kept, "MESSAGE#case-7#k1", "MESSAGE")["expires_at"] == expires_at
    # A rep's email that arrives after closing (refused: the case is closed) expires with the case too.
    kept.conversation.record(message.model_copy(update={"key": "k2", "outcome": "not posted: closed"}))
    assert _item(kept, "MESSAGE#case-7#k2", "MESSAGE")["expires_at"] == expires_at


def test_a_thread_taken_over_by_a_newer_case_keeps_its_pointer(kept):
    _open_case(kept, "case-7", "7")
    case = kept.cases.get("case-7")
    assert case is not None
    kept.table.put_item(Item={**pointer_key("7", "9"), "case_id": "case-9"})
    kept.cases.closed(case, at=NOW, outcome="resolved")
    assert "expires_at" not in _item(kept, "CONVERSATION#7", "CASE#9")


def test_a_thread_pointer_from_before_customers_had_their_own_still_expires_with_its_case(kept):
    _open_case(kept, "case-7", "7")
    kept.table.delete_item(Key=pointer_key("7", "9"))
    kept.table.put_item(Item={"pk": "CONVERSATION#7", "sk": "CASE", "case_id": "case-7"})
    case = kept.cases.get("case-7")
    assert case is not None and kept.cases.thread_cases("7").starter == "case-7"
    expires_at = kept.cases.closed(case, at=NOW, outcome="resolved")
    assert _item(kept, "CONVERSATION#7", "CASE")["expires_at"] == expires_at


def test_a_pointer_left_to_an_expired_case_is_taken_over_like_a_closed_thread(kept):
    """TTL deletes the case and its pointer independently; a new complaint in the thread still opens.
    The pointer here is one from before customers had their own in a thread."""
    kept.table.put_item(Item={"pk": "CONVERSATION#100", "sk": "CASE", "case_id": "case-7"})  # case gone
    mention = Mention(
        tweet_id="101",
        handle="acmeair",
        text="@acmeair still no refund",
        author=Author(id="9", username="jane"),
        created_at=NOW,
        conversation_id="100",
        mentions_handle=True,
        triage=Triage(category="complaint", sentiment=-0.6, severity="simple"),
        ingested_at=NOW,
    )
    outcome = kept.mentions.record(mention, open_case=True, retention=timedelta(days=180))
    assert outcome.case_opened and outcome.case_id == "case-101"
    thread = kept.cases.thread_cases("100")
    assert thread.starter == "case-101" and thread.cases == {"9": "case-101"}


def test_on_the_deployed_stack_open_cases_never_expire_and_closed_ones_do(cloud: Cloud):
    post = cloud.emulator.add_post("jane", "@acmeair lost my luggage again, medication inside. Furious.")
    cloud.poll()
    case_id = f"case-{post.id}"
    wait_until(lambda: cloud.emails_to(ALEX), what="the escalation email")
    cloud.emulator.add_dm("jane", "acmeair", "Booking XK42P")
    cloud.poll_dms()
    running = cloud.store.cases.get(case_id)
    assert running is not None and running.status == CaseStatus.OPEN and running.expires_at is None
    dms = [_item(cloud.store, f"DM#{d.event_id}", "DM") for d in cloud.store.dms.for_case(case_id)]
    assert len(dms) == 2 and all(
        d["expires_at"] == _epoch(datetime.fromisoformat(d["created_at"]) + timedelta(days=180)) for d in dms
    )

    cloud.decide(ALEX, "not_resolved", note="Bag is lost for good")
    assert wait_for_end(cloud.execution_arn(case_id))["status"] == "SUCCEEDED"
    closed_case = cloud.store.cases.get(case_id)
    assert closed_case is not None and closed_case.closed_at is not None
    closed = {"expires_at": closed_case.expires_at}
    assert closed["expires_at"] == _epoch(closed_case.closed_at + timedelta(days=365))
    pointer = cloud.store.table.get_item(Key=pointer_key(post.id, closed_case.customer_id))["Item"]
    assert pointer["expires_at"] == closed["expires_at"]

    table = boto3.resource("dynamodb").Table(cloud.deployed.table_name)
    outbox = [i for i in table.scan()["Items"] if str(i["pk"]).startswith(f"OUTBOX#{case_id}#")]
    assert outbox and all(i["state"] == "DONE" for i in outbox)
    for item in outbox:
        claimed = datetime.fromisoformat(str(item["claimed_at"]))
        assert 0 <= int(item["expires_at"]) - _epoch(claimed + timedelta(days=400)) < 3600
