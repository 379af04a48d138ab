"""Bad input, property-based (hypothesis) and table-driven: every input gets a clear error or safe
handling, and nothing a customer writes can put markup or headers into an email. The number of
inputs tried is printed in pytest's closing summary (tests/conftest.py)."""

from __future__ import annotations

import email
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from turnaround.adapters.x_api import _parse
from turnaround.exceptions import MalformedXResponse
from turnaround.logic.rep_actions.links import (
    ActionClaim,
    ActionLinkExpired,
    ActionLinkInvalid,
    ActionLinkSigner,
)
from turnaround.logic.triage import triage
from turnaround.logic.workflow.case_workflow import first_name
from turnaround.logic.workflow.emails import escalation_email
from turnaround.models.case import Case
from turnaround.models.mention import Author, Mention, Triage
from turnaround.models.playbook import load_playbook
from turnaround.models.x import MentionsPage

TRIED: Counter[str] = Counter()
PLAYBOOK = load_playbook(str(Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"))
SIGNER = ActionLinkSigner(b"k" * 32)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)

# Text as customers write it: emoji, right-to-left scripts, zero-width and control characters, markup.
hostile_text = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            [
                "\u200b",
                "\u200f",
                "\u202e",
                "\r\n",
                "\n",
                "<",
                ">",
                "&",
                '"',
                "'",
                "<script>",
                "</b>",
                "😡",
                "مرحبا",
                "שלום",
                "@acmeair",
            ]
        ),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=hostile_text, followers=st.integers(min_value=0, max_value=10**9), verified=st.booleans())
def test_triage_takes_any_text(text: str, followers: int, verified: bool) -> None:
    TRIED["triage"] += 1
    result = triage(text, followers=followers, verified=verified)
    assert -1 <= result.sentiment <= 1 and 1 <= result.priority <= 4
    assert (result.severity is None) == (result.category not in ("complaint", "unsure"))


@settings(max_examples=120, deadline=None)
@given(text=hostile_text, name=hostile_text, username=st.text(min_size=1, max_size=50))
def test_no_post_or_name_can_put_markup_or_headers_into_the_email(
    text: str, name: str, username: str
) -> None:
    TRIED["email"] += 1
    mention = Mention(
        tweet_id="1",
        handle="acmeair",
        text=text,
        author=Author(id="9", username=username, name=name, followers=5, verified=False),
        created_at=NOW,
        conversation_id="1",
        mentions_handle=True,
        triage=Triage(category="complaint", severity="charged", sentiment=-0.5, priority=1, reasons=[name]),
        ingested_at=NOW,
    )
    case = Case.opened_from(mention, opened_at=NOW)
    message = escalation_email(
        playbook=PLAYBOOK,
        case=case,
        mention=mention,
        thread=[mention],
        dms=[],
        recipient=PLAYBOOK.roster[0],
        links=dict.fromkeys(("resolved", "not_resolved", "reassign"), "https://x.test/?t=a.b"),
        expires_at=int(NOW.timestamp()),
        reminder=False,
        supervisor=False,
    )
    parsed = email.message_from_bytes(message.as_bytes())
    # Nothing customer text contains can add a header.
    assert sorted(k.lower() for k in parsed) == [
        "content-type",
        "from",
        "in-reply-to",
        "message-id",
        "mime-version",
        "references",
        "subject",
        "to",
        "x-turnaround-case",
    ]
    assert parsed["To"] == PLAYBOOK.roster[0].email
    html = (
        next(p for p in parsed.walk() if p.get_content_type() == "text/html")
        .get_payload(decode=True)
        .decode()  # type: ignore[union-attr]
    )

    def lines(value: str) -> str:  # MIME normalises line endings
        return value.replace("\r\n", "\n").replace("\r", "\n")

    assert lines(str(escape(text))) in lines(html)  # the post appears, escaped
    if "<script>" in text + name + username:
        assert "<script>" not in html


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=700))
def test_any_string_as_a_link_token_is_refused_cleanly(token: str) -> None:
    TRIED["link token"] += 1
    with pytest.raises(ActionLinkInvalid):
        SIGNER.verify(token, now=NOW)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=1, max_value=60), flip=st.integers(min_value=0, max_value=200))
def test_truncated_or_tampered_tokens_are_refused(cut: int, flip: int) -> None:
    TRIED["tampered token"] += 1
    token = SIGNER.sign(
        ActionClaim(
            escalation_id="e" * 32,
            case_id="case-1",
            action="resolved",
            expires_at=int((NOW + timedelta(days=1)).timestamp()),
        )
    )
    with pytest.raises(ActionLinkInvalid):
        SIGNER.verify(token[:-cut], now=NOW)
    position = flip % len(token)
    tampered = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    with pytest.raises((ActionLinkInvalid, ActionLinkExpired)):
        SIGNER.verify(tampered, now=NOW)


def test_expired_token_is_refused_even_when_signed():
    TRIED["link token"] += 1
    token = SIGNER.sign(
        ActionClaim(
            escalation_id="e", case_id="case-1", action="resolved", expires_at=int(NOW.timestamp()) - 1
        )
    )
    with pytest.raises(ActionLinkExpired):
        SIGNER.verify(token, now=NOW)


@settings(max_examples=100, deadline=None)
@given(
    name=hostile_text,
    username=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=15),
)
def test_every_public_template_fits_in_a_post_whatever_the_name(name: str, username: str) -> None:
    TRIED["template"] += 1
    for situation in ("ack_public", "ack_offline", "follow_up_public"):
        for variant in range(3):
            text = PLAYBOOK.render(
                situation,
                key=f"case-{variant}",
                variant_offset=variant,
                customer=username,
                first_name=first_name(Author(id="9", name=name, username=username)),
                initials="AB",
                case_ref="123456",
                rep_name="Alex Brown",
            )
            assert len(text) <= 280 and "\r" not in text and "\n" not in text


class _Response:
    def __init__(self, body: bytes):
        self.content, self.status_code = body, 200

    def json(self) -> Any:
        return json.loads(self.content)


MALFORMED = [
    b"",
    b"not json",
    b'{"data": [{"id": "1", "te',
    b"[]",
    b"null",
    b'{"meta": {}}',
    b'{"data": [{"id": "x", "text": "t", "author_id": "1"}], "meta": {"result_count": 1}}',
    b'{"data": [{"id": "1", "author_id": "1"}], "meta": {"result_count": 1}}',
    b'{"data": [{"id": "1", "text": null, "author_id": "1"}], "meta": {"result_count": 1}}',
    b'{"data": {"id": "1"}, "meta": {"result_count": 1}}',
    b'{"data": [], "meta": {"result_count": -1}}',
    b'{"data": [{"id": "99999999999999999999", "text": "t", "author_id": "1"}], "meta": {"result_count": 1}}',
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_or_truncated_api_json_is_a_clear_error(body: bytes) -> None:
    TRIED["api json"] += 1
    with pytest.raises(MalformedXResponse, match="unexpected MentionsPage payload"):
        _parse(_Response(body), MentionsPage)  # type: ignore[arg-type]


def test_unknown_fields_are_ignored_and_huge_pages_parse() -> None:
    TRIED["api json"] += 2
    tweet = {"id": "1", "text": "t", "author_id": "2", "new_field_from_x": {"nested": [1, 2]}}
    page = _parse(
        _Response(json.dumps({"data": [tweet], "meta": {"result_count": 1}, "extra": 1}).encode()),  # type: ignore[arg-type]
        MentionsPage,
    )
    assert page.data[0].id == "1"
    huge = {"data": [{**tweet, "id": str(i + 1)} for i in range(20_000)], "meta": {"result_count": 20_000}}
    assert len(_parse(_Response(json.dumps(huge).encode()), MentionsPage).data) == 20_000  # type: ignore[arg-type]
