"""Build InboundMessage values the way the channel adapters hand them to ingest."""

from __future__ import annotations

from typing import Any

from kiwidesk.cases.models import Channel
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.ingest.contract import InboundMessage, Sender

MAILBOX = "imap://support@kiwidesk.test/INBOX"
SMS_NUMBER = "twilio:+15005550006"
WHATSAPP_NUMBER = "whatsapp:106540352242922"


def email(
    sender: str = "customer@example.org",
    *,
    external_id: str = "<first@mail.example.org>",
    subject: str = "The care-pathway screen froze",
    text: str = "It froze again this morning.",
    source: str = MAILBOX,
    **fields: Any,
) -> InboundMessage:
    return InboundMessage(
        channel=Channel.EMAIL,
        source=source,
        external_id=external_id,
        sender=Sender(kind=IdentityKind.EMAIL, value=sender),
        text=text,
        subject=subject,
        **fields,
    )


def sms(
    number: str = "+447700900123",
    *,
    external_id: str = "SM0001",
    text: str = "Is my booking still on?",
    **fields: Any,
) -> InboundMessage:
    return InboundMessage(
        channel=Channel.SMS,
        source=SMS_NUMBER,
        external_id=external_id,
        sender=Sender(kind=IdentityKind.PHONE, value=number),
        text=text,
        **fields,
    )


def whatsapp(
    number: str = "+447700900123",
    *,
    external_id: str = "wamid.0001",
    text: str = "Is my booking still on?",
    **fields: Any,
) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        source=WHATSAPP_NUMBER,
        external_id=external_id,
        sender=Sender(kind=IdentityKind.WHATSAPP, value=number),
        text=text,
        **fields,
    )
