"""SES's receipt event → each message read from the inbound-mail bucket and handed to the reply desk.

A message larger than the limit is read only for its headers, so the rep is told it was too large.
"""

from __future__ import annotations

from turnaround.adapters.mailbox import Mailbox
from turnaround.logic.reply_mail.inbound_event import SesReceiptEvent
from turnaround.logic.reply_mail.inbound_mail import InboundMail, parse_headers_only, parse_inbound
from turnaround.logic.reply_mail.reply_desk import ReplyDesk, ReplyOutcome, mail_key
from turnaround.observability import logger


def receive(
    event: SesReceiptEvent, *, mailbox: Mailbox, desk: ReplyDesk, max_bytes: int
) -> list[ReplyOutcome]:
    outcomes = []
    for record in event.Records:
        mail, receipt = record.ses.mail, record.ses.receipt
        raw, size = mailbox.read(mail.messageId, max_bytes=max_bytes)
        too_large = size if size > max_bytes else 0
        if too_large:
            sender, message_id = parse_headers_only(raw)
            inbound = InboundMail(
                sender=sender, sender_name="", subject="", message_id=message_id,
                recipients=receipt.recipients, text="",
            )  # fmt: skip
        else:
            inbound = parse_inbound(
                raw, envelope_sender=mail.source, recipients=receipt.recipients, ours=desk.our_addresses
            )
        logger.append_keys(ses_message_id=mail.messageId)
        outcomes.append(
            desk.handle(
                inbound,
                verdicts=receipt.verdicts(),
                key=mail_key(inbound.message_id, mail.messageId),
                too_large=too_large,
            )
        )
    return outcomes
