"""SES receiving, played locally: moto's SES neither receives mail nor runs receipt rules, so this
does what the template's receipt rule does — store the message in the inbound-mail bucket under
``inbound/<SES message id>``, then invoke the inbound-email function with the SES receipt event
(verdicts PASS: the mail comes from the scenario or from loopback).

`make run` delivers the scenario's scripted replies (``rep_replies``) this way, as real MIME replies
to the case emails; `make sandbox` also runs an SMTP server on loopback (aiosmtpd) so a person can
reply from a mail client, and an inbox page listing the mail the system sent.
"""

from __future__ import annotations

import email
import html
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from turnaround import clock

PASS = {"status": "PASS"}


@dataclass
class RepReply:
    """A scripted reply: ``after`` simulated seconds after the case email it answers arrives.
    ``to: dm`` answers the email forwarding the customer's DM; ``to: case`` the escalation."""

    post: str
    text: str
    after: float = 300
    to: str = "case"
    done: bool = False


class ScriptedReplies:
    """The scenario's ``rep_replies``, and what the runner needs of them: every email of each case
    (to find the one a rep answers), what reps wrote (to label posts and DMs), and whether all are
    delivered. Delivery is off the run loop, as SES invokes the function asynchronously."""

    def __init__(self, specs: list[dict[str, Any]], inbound: LocalSesInbound | None):
        self.replies = [RepReply(**spec) for spec in specs]
        self.inbound = inbound
        self.thread_emails: dict[str, list[tuple[datetime, Message]]] = {}
        self.texts: set[str] = set()
        self._deliveries: list[threading.Thread] = []

    def saw_email(self, now: datetime, message: Message) -> None:
        thread = str(message.get("X-Turnaround-Case") or message.get("X-Turnaround-Thread") or "")
        self.thread_emails.setdefault(thread, []).append((now, message))

    @property
    def done(self) -> bool:
        return all(r.done for r in self.replies) and not any(d.is_alive() for d in self._deliveries)

    def tick(self, now: datetime, keys: dict[str, str], say: Callable[[datetime, str], None]) -> None:
        for scripted in self.replies:
            self._maybe_reply(now, scripted, keys, say)

    def _maybe_reply(
        self, now: datetime, scripted: RepReply, keys: dict[str, str], say: Callable[[datetime, str], None]
    ) -> None:
        """The rep answers the case email (or the email with the customer's DM) from a mail client."""
        inbound = self.inbound
        if scripted.done or scripted.post not in keys or inbound is None:
            return
        emails = [
            (t, m) for t, m in self.thread_emails.get(f"case-{keys[scripted.post]}", []) if m["Reply-To"]
        ]
        if scripted.to == "dm":  # the customer's DM reached the rep: forwarded, or in the case email
            received = [
                (t, m)
                for t, m in emails
                if "#dm_mail#" in str(m.get("X-Turnaround-Effect", "")) or " - X DM: " in _plain(m)
            ]
        else:
            received = [(t, m) for t, m in emails if m.get("X-Turnaround-Case")]
        if not received or (now - received[-1][0]).total_seconds() < scripted.after:
            return
        raw, recipients = reply_to(received[-1][1], scripted.text)
        self.texts.add(scripted.text)
        scripted.done = True

        def deliver() -> None:
            outcome = inbound.deliver(raw, recipients)
            say(
                now,
                f"rep replied by email on {scripted.post}: {outcome.get('status')} "
                f"{outcome.get('channel') or outcome.get('detail') or ''}".rstrip(),
            )

        delivery = threading.Thread(target=deliver, name=f"ses-inbound-{scripted.post}")
        self._deliveries.append(delivery)
        delivery.start()


def _plain(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else ""
    return ""


def start_sandbox_mail(
    inbound: LocalSesInbound, mail: Path, say: Callable[[str], None], *, smtp_port: int, inbox_port: int
) -> list[Any]:
    """`make sandbox`: the SMTP server and the inbox page, started; stop each when the run ends."""
    smtp, inbox = SandboxSmtp(inbound, port=smtp_port, say=say), InboxServer(mail, port=inbox_port)
    for server in (smtp, inbox):
        server.start()
    say(f"sandbox mail: inbox {inbox.url}; reply from a mail client through SMTP 127.0.0.1:{smtp_port}")
    return [smtp, inbox]


class LocalSesInbound:
    def __init__(self, bucket: str, function_name: str, domain: str):
        self.bucket, self.function_name, self.domain = bucket, function_name, domain
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def deliver(self, raw: bytes, recipients: list[str]) -> dict[str, Any]:
        with self._lock:
            ses_id = f"local{next(self._ids):08d}"
        boto3.client("s3").put_object(Bucket=self.bucket, Key=f"inbound/{ses_id}", Body=raw)
        message = email.message_from_bytes(raw, policy=policy.default)
        event = {
            "Records": [
                {
                    "eventSource": "aws:ses",
                    "eventVersion": "1.0",
                    "ses": {
                        "mail": {
                            "timestamp": format_datetime(clock.utc_now()),
                            "source": parseaddr(str(message.get("From", "")))[1],
                            "messageId": ses_id,
                            "destination": recipients,
                        },
                        "receipt": {
                            "recipients": recipients,
                            "spamVerdict": PASS,
                            "virusVerdict": PASS,
                            "spfVerdict": PASS,
                            "dkimVerdict": PASS,
                            "dmarcVerdict": PASS,
                            "action": {"type": "Lambda", "invocationType": "Event", "functionArn": ""},
                        },
                    },
                }
            ]
        }
        invoked = boto3.client("lambda").invoke(FunctionName=self.function_name, Payload=json.dumps(event))
        result = json.loads(invoked["Payload"].read())
        if "FunctionError" in invoked:
            return {"status": "error", "detail": f"{result.get('errorType')}: {result.get('errorMessage')}"}
        return dict(result["outcomes"][0])


def reply_to(message: Message, text: str) -> tuple[bytes, list[str]]:
    """What a rep's mail client sends on Reply: new text, signature, the quoted email."""
    message = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    rep = parseaddr(str(message["To"]))[1]
    address = parseaddr(str(message["Reply-To"]))[1]
    part = message.get_body(preferencelist=("plain",))
    original = str(part.get_content()) if part is not None else ""
    reply = EmailMessage()
    reply["From"] = rep
    reply["To"] = address
    reply["Subject"] = "Re: " + str(message["Subject"]).removeprefix("Re: ")
    reply["Date"] = format_datetime(clock.utc_now())
    reply["Message-ID"] = make_msgid(domain=rep.split("@")[-1])
    reply["In-Reply-To"] = str(message["Message-ID"])
    reply["References"] = " ".join(
        filter(None, [str(message.get("References", "")), str(message["Message-ID"])])
    )
    quoted = "\n".join("> " + line for line in original.splitlines())
    when = format_datetime(clock.utc_now())
    reply.set_content(f"{text}\n\n-- \n{rep}\n\nOn {when}, {message['From']} wrote:\n{quoted}\n")
    return reply.as_bytes(), [address]


class SandboxSmtp:
    """An SMTP server on loopback for `make sandbox`: mail to the reply domain goes to the
    inbound-email function the way SES would hand it over; anything else is refused."""

    def __init__(self, inbound: LocalSesInbound, port: int = 2525, say: Any = print):
        from aiosmtpd.controller import Controller

        self.inbound, self.say = inbound, say
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if not address.lower().endswith("@" + self.inbound.domain):
            return f"550 only mail to @{self.inbound.domain} is accepted here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        outcome = await _in_thread(self.inbound.deliver, data, list(envelope.rcpt_tos))
        self.say(
            f"email from {envelope.mail_from}: {outcome.get('status')} {outcome.get('detail', '')}".strip()
        )
        return "250 Message accepted"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


async def _in_thread(function: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class InboxServer:
    """http://127.0.0.1:<port>/ lists the mail the system sent (out/mail), newest first."""

    def __init__(self, mail: Path, port: int = 8025):
        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.mail = mail
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, self._app, threaded=True, request_handler=Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}/"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True, name="inbox").start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        name = request.path.strip("/")
        if name:
            target = self.mail / name
            if "/" in name or not target.is_file():
                return Response("not found", status=404)(environ, start_response)
            kind = "message/rfc822" if name.endswith(".eml") else "text/html; charset=utf-8"
            return Response(target.read_bytes(), content_type=kind)(environ, start_response)
        rows = []
        for eml in sorted(self.mail.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
            cells = [
                html.escape(str(message["Date"] or "")),
                html.escape(str(message["To"])),
                f"<a href='{eml.stem}.html'>{html.escape(str(message['Subject']))}</a>",
                f"<a href='{eml.name}'>.eml</a>",
                html.escape(str(message["Reply-To"] or "")),
            ]
            rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        page = (
            "<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='10'>"
            "<title>Inbox</title>"
            "<body style='font-family: sans-serif'><h1>Mail sent by Turnaround</h1>"
            "<p>Open an .eml in your mail client and reply; send through SMTP 127.0.0.1:2525 (no login, "
            "no TLS). Your reply reaches the inbound-email function as SES would deliver it.</p>"
            "<table border='1' cellpadding='4'><tr><th>date</th><th>to</th><th>subject</th><th></th>"
            f"<th>Reply-To</th></tr>{''.join(rows)}</table></body>"
        )
        return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)
