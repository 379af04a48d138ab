"""SES email built with the stdlib email package. The only module that touches SES.

Header values are checked for CR/LF so no customer text can add headers; bodies are multipart
(plain text + HTML) and the HTML comes from an autoescaping Jinja2 environment.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import boto3
from botocore.exceptions import ClientError

from turnaround.exceptions import EmailNotSent


def safe_header(value: str, limit: int = 200) -> str:
    """One line, no control characters: customer text can never start a new header."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())[:limit]


def build_message(
    *, sender: str, to: list[str], subject: str, text: str, html: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    from email.headerregistry import Address  # with its header parser: only where mail is built

    message = EmailMessage()
    message["From"] = Address(addr_spec=sender)
    message["To"] = ", ".join(str(Address(addr_spec=address)) for address in to)
    message["Subject"] = safe_header(subject)
    message["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
    for name, value in (headers or {}).items():
        message[name] = safe_header(value)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Mailer:
    """``client``: SES's, or ``make_client`` makes it at the first email (the container's, shared).
    ``only_to``: every email goes to this one address instead of its recipients (its headers
    unchanged, so they show whom it was for): a dev stack reading the live handle emails nobody real."""

    def __init__(
        self, *, client: Any = None, make_client: Callable[[], Any] | None = None, only_to: str | None = None
    ):
        self._client = client
        self._make_client = make_client
        self.only_to = only_to

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client() if self._make_client else boto3.client("ses")
        return self._client

    def send(self, message: EmailMessage) -> str:
        try:
            destinations = {"Destinations": [self.only_to]} if self.only_to else {}
            response = self.client.send_raw_email(RawMessage={"Data": message.as_bytes()}, **destinations)
        except ClientError as exc:
            raise EmailNotSent(
                f"SES did not send '{message['Subject']}': {exc.response['Error'].get('Code')}"
            ) from exc
        return str(response["MessageId"])
