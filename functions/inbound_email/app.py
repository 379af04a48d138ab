"""A rep's emailed reply, as SES received it (receipt rule: store in S3, then invoke this function).

Transient X errors raise, so Lambda's asynchronous retries try again (the outbox keeps it to one
post); after the last retry the event goes to the on-failure destination, and the mail stays in S3.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from turnaround.adapters.mailbox import Mailbox
from turnaround.logic.reply_mail.inbound_event import SesReceiptEvent
from turnaround.logic.reply_mail.inbound_mail import InboundMail, parse_headers_only, parse_inbound
from turnaround.logic.reply_mail.reply_desk import ReplyDesk, build_reply_desk, mail_key
from turnaround.observability import logger, metrics, tracer
from turnaround.settings import InboundMailSettings, get_settings


@cache
def _desk(settings: InboundMailSettings) -> ReplyDesk:
    return build_reply_desk(settings)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(InboundMailSettings)
    mailbox = Mailbox(settings.INBOUND_MAIL_BUCKET, settings.INBOUND_MAIL_PREFIX)
    outcomes = []
    for record in SesReceiptEvent.model_validate(event).Records:
        mail, receipt = record.ses.mail, record.ses.receipt
        raw, size = mailbox.read(mail.messageId, max_bytes=settings.INBOUND_MAX_BYTES)
        too_large = size if size > settings.INBOUND_MAX_BYTES else 0
        if too_large:
            sender, message_id = parse_headers_only(raw)
            inbound = InboundMail(
                sender=sender, sender_name="", subject="", message_id=message_id,
                recipients=receipt.recipients, text="",
            )  # fmt: skip
        else:
            inbound = parse_inbound(raw, envelope_sender=mail.source, recipients=receipt.recipients)
        logger.append_keys(ses_message_id=mail.messageId)
        outcome = _desk(settings).handle(
            inbound,
            verdicts=receipt.verdicts(),
            key=mail_key(inbound.message_id, mail.messageId),
            too_large=too_large,
        )
        outcomes.append(outcome.model_dump(mode="json"))
    return {"outcomes": outcomes}
