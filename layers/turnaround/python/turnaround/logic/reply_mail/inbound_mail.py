"""Reading a rep's emailed reply: what kind of mail it is, and the new text in it.

Parsing is the stdlib ``email`` package; quoted history and signatures are removed with
``mail-parser-reply`` (maintained, no dependencies, many mail clients' quote headers in several
languages). HTML-only mail is reduced to text with the stdlib HTML parser, dropping quoted blocks.
"""

from __future__ import annotations

import email
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

# A rep's mail client writes its quote header ("On … wrote:", "El … escribió:", "Från: …") in the
# rep's language, not the customer's: every language the parser knows is read.
AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|autoreply|abwesenheit|absence|"
    r"réponse automatique|respuesta automática)\b",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


@dataclass
class InboundMail:
    sender: str  # the From address, lowercased
    sender_name: str
    subject: str
    message_id: str
    recipients: list[str]
    text: str  # the new text: quoted history and signature removed
    html_only: bool = False
    attachments: list[str] = field(default_factory=list)
    auto_reply: str | None = None  # why it is an automatic reply, if it is one
    bounce: bool = False
    # Anyone else it is addressed to (To, Cc), besides us: a reply-all to a colleague is a note
    # between colleagues, never a message to the customer.
    copied: list[str] = field(default_factory=list)


def _automatic(message: EmailMessage) -> str | None:
    """RFC 3834 and what common mail systems set on vacation notices, lists and other robots."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response"):
        if message.get(header):
            return header
    if str(message.get("X-Auto-Response-Suppress", "")).strip().lower() in ("all", "oof", "autoreply"):
        return "X-Auto-Response-Suppress"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return "mailing list"
    if AUTO_SUBJECT.match(str(message.get("Subject", ""))):
        return "automatic-reply subject"
    return None


def _bounce(message: EmailMessage, envelope_sender: str) -> bool:
    if message.get_content_type() == "multipart/report":
        return True
    sender = parseaddr(str(message.get("From", "")))[1]
    return bool(BOUNCE_SENDERS.match(sender)) or envelope_sender.strip() in ("", "<>")


class _HtmlText(HTMLParser):
    """Visible text of an HTML body, without quoted history (blockquote, Gmail/Outlook quote blocks)."""

    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"}
    QUOTES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg", "appendonsend", "signature")
    # Outlook puts only the quote's header in these, and the quoted email after them, outside: all
    # that follows one is history.
    HISTORY_FOLLOWS = ("divrplyfwdmsg", "appendonsend")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0  # inside a quote, script or style: count nested elements
        self._stack: list[bool] = []
        self._history = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marker = " ".join(str(v) for k, v in attrs if k in ("class", "id")).lower()
        self._history = self._history or any(m in marker for m in self.HISTORY_FOLLOWS)
        if self._history:
            return
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            if tag == "br" and not self._skip_depth:
                self.parts.append("\n")
            return
        skip = tag in ("blockquote", "script", "style", "head", "title") or any(
            q in marker for q in self.QUOTES
        )
        if skip or self._skip_depth:
            self._skip_depth += 1
        self._stack.append(bool(skip or self._skip_depth))
        if tag in self.BREAKS and not self._skip_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._history or tag in ("br", "img", "hr", "meta", "link", "input") or not self._stack:
            return
        if self._stack.pop() and self._skip_depth:
            self._skip_depth -= 1
        if tag in self.BREAKS and not self._skip_depth:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth and not self._history:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Quote headers ("On … wrote:", "El … escribió:", "Från: …") are read in every language the parser
# knows: a rep's mail client writes them in the rep's language. Sign-offs only in these: the parser
# matches a sign-off at a line's start without a word boundary, and other languages' short ones
# ("Tak", Danish thanks) would cut "Take-off 14:30" and what follows.
SIGN_OFF_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]


def strip_quotes_and_signature(text: str, ours: Collection[str] = ()) -> str:
    """The rep's new text: nothing from the first line of a quote header that names one of ``ours``
    (our sender address, our reply domain), whatever the mail client's language; then quoted
    history the parser recognises; then a sign-off, only where it plainly is one."""
    from mailparser_reply import EmailMessage as ParsedMail
    from mailparser_reply.constants import MAIL_LANGUAGES

    text = _before_our_own_email(text.replace("\r\n", "\n"), ours)
    quoted = ParsedMail(text=text, languages=list(MAIL_LANGUAGES), keep_hyphen_lists=True).read()
    newest = quoted.replies[0].content if quoted.replies else text
    signed = ParsedMail(text=newest, languages=SIGN_OFF_LANGUAGES, keep_hyphen_lists=True).read()
    reply = signed.replies[0] if signed.replies else None
    body = (
        newest if reply is None else reply.body if _plainly_a_sign_off(reply.signatures) else reply.full_body
    )
    # Lines quoted with ">" that the parser kept (a reply written between quotes) are history too.
    kept = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


_HEADER_WORD = re.compile(r"^\W*[\w\u00C0-\u024F-]{1,14} ?:")  # "From:", "Från:", "De :", "Von:"
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_SEPARATOR = re.compile(r"^\s*[-_=]{3,}.*[-_=]{3,}\s*$")  # "---------- Forwarded message ---------"


def _before_our_own_email(text: str, ours: Collection[str]) -> str:
    """Cuts at the first line of a quote header naming our address: any line with our reply domain
    (no rep types it); our sender address in an attribution ("… Acme <care@…> wrote:", "…
    care@acme.example escribió:") or in a header block ("From: Acme <care@…>" beside "Sent: …
    2026"). A rep's "Email: care@acme.example" or "write to care@acme.example" is kept. An
    attribution the client wrapped onto the lines just above ("El lun, 23 nov 2026 a las 9:00,")
    goes with it."""
    marks = [mark.lower() for mark in ours if mark]
    if not marks:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        lowered = line.lower().rstrip()
        named = [mark for mark in marks if mark in lowered]
        if not named:
            continue
        beside = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
        header_like = (
            any(mark.startswith("@") for mark in named)
            or lowered.endswith(":")
            or (
                bool(_HEADER_WORD.match(line))
                and any(_HEADER_WORD.match(b) and _YEAR.search(b) for b in beside)
            )
        )
        if not header_like:
            continue
        start = index
        while (
            start > 0 and lines[start - 1].strip() and not lines[start - 1].rstrip().endswith((".", "!", "?"))
        ):
            if not (_YEAR.search(lines[start - 1]) or _SEPARATOR.match(lines[start - 1])):
                break
            start -= 1
        return "\n".join(lines[:start])
    return text


def only_a_greeting(text: str) -> bool:
    """What is left is "Hi Bob," or "Jane:": the message was lost (a mail client's odd quoting, or
    the rep's text under the quote), and posting the greeting alone would embarrass us."""
    words = text.split()
    return 0 < len(words) <= 4 and text.rstrip().endswith((",", ":", ";"))


def _plainly_a_sign_off(block: str) -> bool:
    """Whether a signature the parser found is one, read from its first line: a delimiter ("-- ",
    an Outlook rule) or a few words ("Thanks,", "Kind regards, Alex"); whatever follows it (a name,
    a title, a phone number, a disclaimer) goes with it. "Thank you, we found the parcel." is the
    message, not a sign-off."""
    first = next((line.strip() for line in block.splitlines() if line.strip()), "")
    return not first or set(first) <= set("-_ ") or len(first.split()) <= 4


def parse_inbound(
    raw: bytes, *, envelope_sender: str = "", recipients: list[str] | None = None, ours: Collection[str] = ()
) -> InboundMail:
    """``ours``: our sender address and reply domain ("@reply.acme.example"), where quoted history
    starts in any language."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    name, sender = parseaddr(str(message.get("From", "")))
    attachments = [
        part.get_filename() or part.get_content_type()
        for part in message.walk()
        if part.get_content_disposition() == "attachment"
        or (part.get_content_maintype() not in ("text", "multipart") and part.get_filename())
    ]
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    body, html_only = "", False
    if plain is not None:
        body = str(plain.get_content())
    elif html is not None:
        body, html_only = html_to_text(str(html.get_content())), True
    to = [address for _, address in getaddresses([str(v) for v in message.get_all("To", [])])]
    cc = [address for _, address in getaddresses([str(v) for v in message.get_all("Cc", [])])]
    ours_exactly = {mark.lower() for mark in ours if mark and not mark.startswith("@")}
    our_domains = tuple(mark.lower() for mark in ours if mark.startswith("@"))
    copied = [
        address
        for address in dict.fromkeys(a.strip().lower() for a in to + cc)
        if "@" in address  # "undisclosed-recipients:;" is nobody
        and address != sender.lower()
        and address not in ours_exactly
        and not address.endswith(our_domains)
    ]
    return InboundMail(
        sender=sender.lower(),
        sender_name=name,
        subject=" ".join(str(message.get("Subject", "")).split())[:200],
        message_id=str(message.get("Message-ID", "")).strip(),
        recipients=recipients or to,
        text=strip_quotes_and_signature(body, ours) if body else "",
        html_only=html_only,
        attachments=attachments,
        auto_reply=_automatic(message),
        bounce=_bounce(message, envelope_sender),
        copied=copied,
    )


def parse_headers_only(head: bytes) -> tuple[str, str]:
    """From address and Message-ID of a message too large to read whole (only its head was fetched)."""
    header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message = email.message_from_bytes(header_block + b"\r\n\r\n", policy=policy.default)
    return parseaddr(str(message.get("From", "")))[1].lower(), str(message.get("Message-ID", "")).strip()
