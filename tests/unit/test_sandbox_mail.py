"""`make sandbox` mail: the loopback SMTP server hands replies on as SES would; the inbox lists mail."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from local_cloud.inbound_mail import InboxServer, SandboxSmtp


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbound:
    domain = "reply.acme.example"

    def __init__(self) -> None:
        self.delivered: list[tuple[bytes, list[str]]] = []

    def deliver(self, raw: bytes, recipients: list[str]) -> dict[str, Any]:
        self.delivered.append((raw, recipients))
        return {"status": "posted"}


def test_smtp_on_loopback_delivers_replies_to_the_reply_domain_only() -> None:
    inbound, lines = _Inbound(), list[str]()
    port = _free_port()
    smtp = SandboxSmtp(inbound, port=port, say=lines.append)  # type: ignore[arg-type]
    smtp.start()
    try:
        message = EmailMessage()
        message["From"] = "alex.brown@acmeair.example"
        message["To"] = "case+abc@reply.acme.example"
        message["Subject"] = "Re: case"
        message.set_content("On it.")
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.send_message(message)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail(
                    "alex.brown@acmeair.example", ["someone@elsewhere.example"], b"Subject: x\r\n\r\nx"
                )
    finally:
        smtp.stop()
    [(raw, recipients)] = inbound.delivered
    assert recipients == ["case+abc@reply.acme.example"] and b"On it." in raw
    assert lines == ["email from alex.brown@acmeair.example: posted"]


def test_inbox_page_lists_sent_mail_and_serves_it(tmp_path: Path) -> None:
    message = EmailMessage()
    message["To"] = "alex.brown@acmeair.example"
    message["Subject"] = "[P1] @jane <script> - case 123456"
    message["Reply-To"] = "case+abc@reply.acme.example"
    message.set_content("hello")
    (tmp_path / "01-case-1-alex.eml").write_bytes(message.as_bytes())
    (tmp_path / "01-case-1-alex.html").write_text("<p>hello</p>")
    inbox = InboxServer(tmp_path, port=0)
    inbox.start()
    try:
        page = requests.get(inbox.url, timeout=5).text
        assert "case+abc@reply.acme.example" in page and "&lt;script&gt;" in page and "<script>" not in page
        assert requests.get(inbox.url + "01-case-1-alex.eml", timeout=5).content == message.as_bytes()
        assert requests.get(inbox.url + "..%2Fsecret", timeout=5).status_code == 404
    finally:
        inbox.stop()
