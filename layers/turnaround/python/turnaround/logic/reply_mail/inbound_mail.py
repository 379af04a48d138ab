"""Reading a rep's emailed reply: what kind of mail it is, and the new text in it.

Parsing is the stdlib ``email`` package; quoted history and signatures are removed with
``mail-parser-reply`` (maintained, no dependencies, many mail clients' quote headers in several
languages). HTML-only mail is reduced to text with the stdlib HTML parser, dropping quoted blocks.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

# The languages whose reply headers ("On … wrote:", "Am … schrieb:") and signatures are recognised.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt"]
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
    QUOTES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg", "appendonsend")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0  # inside a quote, script or style: count nested elements
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            if tag == "br" and not self._skip_depth:
                self.parts.append("\n")
            return
        marker = " ".join(str(v) for k, v in attrs if k in ("class", "id")).lower()
        skip = tag in ("blockquote", "script", "style", "head", "title") or any(
            q in marker for q in self.QUOTES
        )
        if skip or self._skip_depth:
            self._skip_depth += 1
        self._stack.append(bool(skip or self._skip_depth))
        if tag in self.BREAKS and not self._skip_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "hr", "meta", "link", "input") or not self._stack:
            return
        if self._stack.pop() and self._skip_depth:
            self._skip_depth -= 1
        if tag in self.BREAKS and not self._skip_depth:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quotes_and_signature(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    text = text.replace("\r\n", "\n")
    parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(text)
    body = parsed.replies[0].body if parsed.replies else text
    # Lines quoted with ">" that the parser kept (a reply written between quotes) are history too.
    kept = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def parse_inbound(
    raw: bytes, *, envelope_sender: str = "", recipients: list[str] | None = None
) -> InboundMail:
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
    return InboundMail(
        sender=sender.lower(),
        sender_name=name,
        subject=" ".join(str(message.get("Subject", "")).split())[:200],
        message_id=str(message.get("Message-ID", "")).strip(),
        recipients=recipients or to,
        text=strip_quotes_and_signature(body) if body else "",
        html_only=html_only,
        attachments=attachments,
        auto_reply=_automatic(message),
        bounce=_bounce(message, envelope_sender),
    )


def parse_headers_only(head: bytes) -> tuple[str, str]:
    """From address and Message-ID of a message too large to read whole (only its head was fetched)."""
    header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message = email.message_from_bytes(header_block + b"\r\n\r\n", policy=policy.default)
    return parseaddr(str(message.get("From", "")))[1].lower(), str(message.get("Message-ID", "")).strip()
