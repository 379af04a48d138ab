"""InboundEmailFunction's and DmMailFunction's wiring: reps' emailed replies reach X, customers' DMs
reach the rep's mailbox (logic/reply_mail)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from turnaround.adapters.mailbox import Mailbox
from turnaround.exceptions import ConfigurationError
from turnaround.handlers import container
from turnaround.logic.reply_mail.reply_address import ReplyAddressSigner
from turnaround.logic.reply_mail.reply_desk import ReplyDesk
from turnaround.settings import InboundMailSettings, ReplyMailSettings, WorkflowSettings, get_settings

if TYPE_CHECKING:
    from turnaround.adapters.x_api import XApi
    from turnaround.logic.reply_mail.inbound_event import SesReceiptEvent
    from turnaround.logic.reply_mail.reply_desk import ReplyOutcome


def _no_x(handle: str) -> XApi:
    raise TypeError("only the inbound-mail function posts to X")


def reply_desk(
    settings: ReplyMailSettings | WorkflowSettings, x_for: Callable[[str], XApi] = _no_x
) -> ReplyDesk:
    """The one way a ReplyDesk is built: the mail functions' and the workflow's (its Reply-To
    addresses) sign and expire reply addresses alike."""
    if not settings.REPLY_EMAIL_DOMAIN:
        raise ConfigurationError("REPLY_EMAIL_DOMAIN is not set: replies by email are off")
    return ReplyDesk(
        store=container.store(settings.TABLE_NAME),
        x_for=x_for,
        mailer=container.mailer(),
        # the secret is read when an address is first made or checked, not at INIT
        signer=ReplyAddressSigner(
            partial(container.link_secret, settings.ACTION_LINK_SECRET_NAME), settings.REPLY_EMAIL_DOMAIN
        ),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
        address_ttl=timedelta(days=settings.REPLY_ADDRESS_TTL_DAYS),
    )


@container.per_container
def inbound_desk() -> ReplyDesk:
    settings = get_settings(InboundMailSettings)
    container.every_call_uses("ses")  # a rep's reply is confirmed, or refused, by email
    return reply_desk(settings, container.x_for(settings))


@container.per_container
def dm_mail_desk() -> ReplyDesk:
    container.every_call_uses("ses")  # the stream's filter lets through only what is mailed to the rep
    return reply_desk(get_settings(ReplyMailSettings))


@container.per_container
def mailbox() -> Mailbox:
    from turnaround.adapters import aws

    settings = get_settings(InboundMailSettings)
    return Mailbox(settings.INBOUND_MAIL_BUCKET, settings.INBOUND_MAIL_PREFIX, client=aws.client("s3"))


def receive_replies(event: SesReceiptEvent) -> list[ReplyOutcome]:
    from turnaround.logic.reply_mail.receive import receive

    settings = get_settings(InboundMailSettings)
    return receive(event, mailbox=mailbox(), desk=inbound_desk(), max_bytes=settings.INBOUND_MAX_BYTES)
