"""Reply addresses, X's weighted length and reading a rep's reply (issue 15), without AWS or X."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from turnaround.logic.reply_mail.inbound_mail import html_to_text, parse_inbound, strip_quotes_and_signature
from turnaround.logic.reply_mail.reply_address import (
    ReplyAddressExpired,
    ReplyAddressInvalid,
    ReplyAddressSigner,
)
from turnaround.logic.reply_mail.tweet_length import weighted_length

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SIGNER = ReplyAddressSigner(b"k" * 64, "reply.acme.example")


def test_reply_address_round_trips_and_fits_an_email_local_part() -> None:
    expires = int((NOW + timedelta(days=30)).timestamp())
    address = SIGNER.address("case-1862837123456789012", recipient="Alex@Acme.example", expires_at=expires)
    local = address.split("@")[0]
    assert len(local) <= 64 and local == local.lower()
    claim = SIGNER.verify(address.upper(), now=NOW)  # a mail system may change the case
    assert claim.case_id == "case-1862837123456789012" and claim.expires_at == expires
    assert claim.issued_to("alex@acme.example") and not claim.issued_to("sam@acme.example")


@pytest.mark.parametrize("position", range(5, 49))
def test_every_altered_character_is_refused(position: int) -> None:
    address = SIGNER.address("case-42", recipient="a@b.example", expires_at=2_000_000_000)
    local, domain = address.split("@")
    for replacement in "a7":
        if local[position] != replacement:
            altered = local[:position] + replacement + local[position + 1 :] + "@" + domain
            with pytest.raises(ReplyAddressInvalid):
                SIGNER.verify(altered, now=NOW)


def test_other_keys_domains_and_expired_addresses_are_refused() -> None:
    other = ReplyAddressSigner(b"o" * 64, "reply.acme.example").address(
        "case-42", recipient="a@b.example", expires_at=2_000_000_000
    )
    with pytest.raises(ReplyAddressInvalid):
        SIGNER.verify(other, now=NOW)
    good = SIGNER.address("case-42", recipient="a@b.example", expires_at=2_000_000_000)
    with pytest.raises(ReplyAddressInvalid):
        SIGNER.verify(good.replace("reply.acme.example", "evil.example"), now=NOW)
    old = SIGNER.address("case-42", recipient="a@b.example", expires_at=int(NOW.timestamp()) - 1)
    with pytest.raises(ReplyAddressExpired):
        SIGNER.verify(old, now=NOW)
    for junk in (
        "",
        "case+@reply.acme.example",
        "x" * 500 + "@reply.acme.example",
        "case+ü@reply.acme.example",
    ):
        with pytest.raises(ReplyAddressInvalid):
            SIGNER.verify(junk, now=NOW)


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("a" * 280, 280),
        ("a" * 281, 281),
        ("see https://example.com/" + "x" * 100, 4 + 23),  # any URL counts 23
        ("您好", 4),  # CJK counts 2
        ("👍🏽", 2),  # an emoji sequence counts 2
        ("café", 4),
    ],
)
def test_weighted_length_is_xs(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Done, refunded.\n\nOn Mon, 23 Nov 2026 at 09:00, Acme <care@acme.example> wrote:\n> Hi\n> old",
            "Done, refunded.",
        ),
        (
            "Done.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\nTo: Alex\nSubject: x\n\nold",
            "Done.",
        ),
        ("Done.\n-- \nAlex Brown\nAcme Air care", "Done."),
        ("Done.\n\nSent from my iPhone", "Done."),
        ("Done.\n\nAm 23.11.2026 um 09:00 schrieb Acme <care@acme.example>:\n> alt", "Done."),
    ],
)
def test_quoted_history_and_signatures_are_stripped(body: str, expected: str) -> None:
    assert strip_quotes_and_signature(body) == expected


def test_html_only_reply_is_read_without_its_quote() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><p>Line one &amp; two</p><div>Alex</div>"
        '<div class="gmail_quote">On Mon wrote:<blockquote>old <b>stuff</b></blockquote></div></body></html>'
    )
    assert html_to_text(html) == "Line one & two\n\nAlex"  # a paragraph, then a block


def _message(**headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Alex <Alex.Brown@Acme.example>"
    message["To"] = "case+abc@reply.acme.example"
    message["Subject"] = headers.pop("Subject", "Re: case")
    message["Message-ID"] = "<1@mail.acme.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hello")
    return message.as_bytes()


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "yes"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "auto_reply"},
        {"List_Id": "<team.acme.example>"},
        {"X_Auto_Response_Suppress": "All"},
        {"Subject": "Out of Office: Re: case"},
        {"Subject": "Automatic reply: case"},
    ],
)
def test_automatic_replies_are_recognised(headers: dict[str, str]) -> None:
    assert parse_inbound(_message(**headers)).auto_reply


def test_a_person_s_reply_is_not_automatic_and_the_sender_is_normalised() -> None:
    mail = parse_inbound(_message(Auto_Submitted="no"), envelope_sender="alex.brown@acme.example")
    assert mail.auto_reply is None and not mail.bounce
    assert mail.sender == "alex.brown@acme.example" and mail.text == "Hello"
    assert parse_inbound(_message(), envelope_sender="").bounce  # null reverse-path: a bounce
