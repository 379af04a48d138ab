"""Reply addresses, X's weighted length and reading a rep's reply (issue 15), without AWS or X."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from turnaround.logic.reply_mail.inbound_mail import (
    html_to_text,
    only_a_greeting,
    parse_inbound,
    strip_quotes_and_signature,
)
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


# What a quote of our own email names: our sender address and the reply domain.
OURS = ("care@acme.example", "@reply.acme.example")
FROM_US = "Acme Care <case+abc@reply.acme.example>"
OUR_EMAIL = "Hi Alex, a new case on X is yours.\nResolved: https://act.example/a?t=SECRET"


@pytest.mark.parametrize(
    ("client", "body"),
    [
        (
            "Gmail, Spanish",
            f"Reembolsado.\n\nEl lun, 23 nov 2026 a las 9:00, {FROM_US} escribió:\n\n> {OUR_EMAIL}",
        ),
        (
            "Gmail, Portuguese, wrapped",
            "Reembolsado.\n\nEm seg., 23 de nov. de 2026 às 09:00,\ncare@acme.example escreveu:\n\n> old",
        ),
        ("Gmail, Polish", f"Reembolsado.\n\npon., 23 lis 2026 o 09:00 {FROM_US} napisał(a):\n\n> old"),
        ("Gmail, Japanese", f"Reembolsado.\n\n2026年11月23日(月) 9:00 {FROM_US}:\n\n> old"),
        (
            "Outlook, Swedish",
            f"Reembolsado.\n\n________________________________\nFrån: {FROM_US}\n"
            "Skickat: den 23 november 2026 09:00\nTill: Alex <alex@acme.example>\n"
            f"Ämne: Re: case\n\n{OUR_EMAIL}",
        ),
        (
            "Outlook, Portuguese, no rule",
            f"Reembolsado.\n\nDe: {FROM_US}\nEnviado: segunda-feira, 23 de novembro de 2026 09:00\n"
            f"Para: Alex <alex@acme.example>\nAssunto: Re: case\n\n{OUR_EMAIL}",
        ),
        (
            "a forward, then the reply",
            f"Reembolsado.\n\n---------- Forwarded message ---------\nFrom: {FROM_US}\n"
            f"Date: Mon, 23 Nov 2026\n\n{OUR_EMAIL}",
        ),
    ],
)
def test_our_quoted_email_never_reaches_the_customer_whatever_the_reps_mail_client_language(
    client: str, body: str
) -> None:
    assert strip_quotes_and_signature(body, OURS) == "Reembolsado.", client


def test_a_rep_who_gives_our_address_in_a_sentence_keeps_the_sentence() -> None:
    body = "Jane, you can also write to care@acme.example with the receipt.\nWe'll refund it the same day."
    assert strip_quotes_and_signature(body, OURS) == body


def test_an_outlook_web_html_reply_is_read_without_the_email_it_answers() -> None:
    html = (
        '<html><body><div>Jane, the courier has your bag; it arrives by 6pm.</div><div id="Signature">'
        '<p>Alex Brown | Acme Air care</p></div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">'
        "<b>From:</b> Acme Air &lt;care@acme.example&gt;<br><b>Sent:</b> Monday 9:00</div>"
        '<div><p>Hi Alex, a new case on X is yours.</p><p><a href="https://act.example/?t=SECRET">Resolved'
        "</a></p></div></body></html>"
    )
    assert html_to_text(html) == "Jane, the courier has your bag; it arrives by 6pm."


@pytest.mark.parametrize(
    "body",
    [
        "Hi Jane,\nThank you, we found the bag. A courier brings it by 6pm.",
        "Bob, sorry for the wait.\nThanks, the refund is done and will show in 3-5 days.",
        "Hola Jane,\nGracias, ya hemos encontrado tu maleta. Llega mañana.",
        "Jane, your bag is at T5.\n- Collect it at desk 4\n- Bring ID",
        "Jane, the shuttle leaves at 6.\nTake the lift to level 2, where the driver waits for you.",
    ],
)
def test_a_sign_off_word_inside_the_message_never_cuts_it(body: str) -> None:
    assert strip_quotes_and_signature(body, OURS) == body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Refund sent.\n\nKind regards,\nAlex Brown\nCustomer Care | Acme Air\nT: +44 20 7946 0958",
            "Refund sent.",
        ),
        ("Refund sent.\n\nThanks,\nAlex", "Refund sent."),
        ("Reembolsado.\n\nSaludos,\nAlex", "Reembolsado."),
    ],
)
def test_a_plain_sign_off_is_still_taken_off(body: str, expected: str) -> None:
    assert strip_quotes_and_signature(body, OURS) == expected


@pytest.mark.parametrize(
    ("text", "greeting"), [("Hi Bob,", True), ("Jane:", True), ("Done, refunded.", False)]
)
def test_a_reply_cut_down_to_its_greeting_is_seen(text: str, greeting: bool) -> None:
    assert only_a_greeting(text) is greeting


@pytest.mark.parametrize(
    "body",
    [
        "Hi Jane, your refund is done.\n\nBest regards,\nAlex Smith\nCustomer Care Team Lead, Acme Air Ltd.\n"
        "Phone: +44 20 7946 0958",
        "Hi Jane, your refund is done.\n\nThanks,\nAlex\nPlease consider the environment before printing.",
    ],
)
def test_a_long_corporate_signature_never_reaches_the_customer(body: str) -> None:
    assert strip_quotes_and_signature(body, OURS) == "Hi Jane, your refund is done."


@pytest.mark.parametrize(
    "body",
    [
        "Jane, sorry for the wait, you are rebooked.\nTake-off 14:30\nGate B12\nSeat 12A",  # not Danish "Tak"
        "Jane, your bag was found.\nKhalid at desk 4 has it\nAsk for him",
        "Hi Jane, we have rebooked you.\nEmail: care@acme.example\nThanks for your patience.",
        "Hi Jane, we have rebooked you.\nNote: a copy went from care@acme.example to you.\nAsk us anything.",
    ],
)
def test_the_reps_own_lines_are_never_cut(body: str) -> None:
    assert strip_quotes_and_signature(body, OURS) == body


def test_a_line_with_a_time_just_above_the_attribution_is_the_reps() -> None:
    attribution = "On Mon, 23 Nov 2026 at 09:00, Acme <care@acme.example> wrote:"
    body = f"Your new flight leaves at 14:30 tomorrow\n{attribution}\n> x"
    assert strip_quotes_and_signature(body, OURS) == "Your new flight leaves at 14:30 tomorrow"


@pytest.mark.parametrize(
    ("to", "cc", "copied"),
    [
        ("case+abc@reply.acme.example", "customercare@acme.example", ["customercare@acme.example"]),
        ("undisclosed-recipients:;", "", []),  # the reply address in Bcc: nobody else
        ("case+abc@REPLY.acme.example", "Alex <ALEX.BROWN@acme.example>", []),  # the sender themself
        ("case+abc@reply.acme.example", "care@acme.example", []),  # our own sender address
    ],
)
def test_who_else_a_reply_is_addressed_to(to: str, cc: str, copied: list[str]) -> None:
    message = EmailMessage()
    message["From"] = "Alex <Alex.Brown@Acme.example>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = "Re: case"
    message.set_content("Done.")
    assert parse_inbound(message.as_bytes(), ours=OURS).copied == copied
