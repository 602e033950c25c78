"""SMS and WhatsApp through Twilio: verify a webhook, parse its form, send through the REST API.

Twilio posts `application/x-www-form-urlencoded` bodies signed with the account's
auth token (X-Twilio-Signature over the URL it called and the sorted form fields).
WhatsApp through Twilio is the same webhook with `whatsapp:`-prefixed numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from kiwidesk.cases.models import Channel, DeliveryStatus, Message
from kiwidesk.channels.common import (
    DeliveryError,
    StatusUpdate,
    UnreadablePayloadError,
    e164,
    ensure_messaging_window,
    public_url,
    recipient_number,
)
from kiwidesk.channels.twilio.client import twilio_client
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.ingest.contract import InboundMessage, Sender

SIGNATURE_HEADER = "X-Twilio-Signature"
WHATSAPP_PREFIX = "whatsapp:"
# Sources name the provider, so a Twilio number and a Meta phone number id never collide.
SOURCE_PREFIX = "twilio:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio sends at most 10 media per message.
MAX_MEDIA = 10

# Twilio's MessageStatus values that say how far delivery has come. The others
# (queued, accepted, scheduled, sending, receiving, received) change nothing for us.
DELIVERY_STATUSES: dict[str, str] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class Envelope:
    """Where a webhook body came from, read without judging it (for quarantine too)."""

    channel: str
    source: str
    external_id: str


def verify(raw: bytes, *, url: str, signature: str, auth_token: str) -> bool:
    """Check X-Twilio-Signature for a form body posted to `url` (no token: refuse all)."""
    if not auth_token or not signature:
        return False
    validator = RequestValidator(auth_token)
    return bool(validator.validate(url, QueryDict(raw), signature))


def envelope(raw: bytes) -> Envelope:
    form = QueryDict(raw)
    channel = Channel.WHATSAPP if _is_whatsapp(form.get("From", "")) else Channel.SMS
    return Envelope(channel, SOURCE_PREFIX + _number(form.get("To", "")), _message_sid(form))


# Quarantined Twilio bodies are re-read by this adapter, whichever channel they came on.
ADAPTER = "twilio"


def parse(raw: bytes, source: str = "") -> InboundMessage:
    """Turn an inbound-message webhook body into an InboundMessage.

    Media stay links in the text; `media.parse_with_media` also downloads them.
    Raises UnreadablePayloadError without a MessageSid or a usable sender number.
    """
    form = QueryDict(raw)
    where = envelope(raw)
    if not where.external_id:
        raise UnreadablePayloadError("the webhook has no MessageSid")
    kind = IdentityKind.WHATSAPP if where.channel == Channel.WHATSAPP else IdentityKind.PHONE
    sender = Sender(kind, e164(_number(form.get("From", ""))), name=form.get("ProfileName", ""))
    return InboundMessage(
        channel=where.channel,
        source=source or where.source,
        external_id=where.external_id,
        sender=sender,
        text=_text(form),
        recipients=tuple(filter(None, [_number(form.get("To", ""))])),
        raw=raw,
    )


@dataclass(frozen=True)
class MediaLink:
    """A file sent with a message, held by Twilio at `url` (named by its Media SID)."""

    url: str
    content_type: str

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1] or "media"


def media_links(raw: bytes) -> list[MediaLink]:
    """The files of an inbound message, in the order the customer sent them."""
    form = QueryDict(raw)
    links = [
        MediaLink(form.get(f"MediaUrl{index}", ""), form.get(f"MediaContentType{index}", ""))
        for index in range(MAX_MEDIA)
    ]
    return [link for link in links if link.url]


def parse_status(raw: bytes) -> StatusUpdate | None:
    """Read a status callback; None when it says nothing about delivery."""
    form = QueryDict(raw)
    status = DELIVERY_STATUSES.get(form.get("MessageStatus", "").strip().lower())
    sid = _message_sid(form)
    if status is None or not sid:
        return None
    error = " ".join(filter(None, (form.get("ErrorCode", ""), form.get("ErrorMessage", ""))))
    return StatusUpdate(sid, status, error)


def send(
    message: Message,
    *,
    client: Client | None = None,
    at: datetime | None = None,
    preapproved: bool = False,
) -> str:
    """Send an outbound message through Twilio's Messages API; return its MessageSid.

    A WhatsApp message outside the customer's 24-hour window raises
    OutsideMessagingWindowError before anything is sent, unless it is the text of
    an approved template (`preapproved`). A refusal raises DeliveryError, permanent
    unless Twilio was unreachable, rate-limited or failing.
    """
    thread = message.thread
    is_whatsapp = thread.channel == Channel.WHATSAPP
    if is_whatsapp and not preapproved:
        ensure_messaging_window(thread, at=at or timezone.now())
    prefix = WHATSAPP_PREFIX if is_whatsapp else ""
    request: dict[str, str] = {
        "to": prefix + recipient_number(thread),
        "from_": prefix + _sending_number(is_whatsapp=is_whatsapp),
        "body": message.body_text,
    }
    callback = public_url(reverse("channels:twilio-status"), "")
    if callback:
        request["status_callback"] = callback
    return _create(client or twilio_client(), request)


def _create(client: Client, request: dict[str, str]) -> str:
    try:
        created = client.messages.create(**request)
    except TwilioRestException as exc:
        transient = exc.status == 429 or exc.status >= 500
        raise DeliveryError(
            f"Twilio refused the message ({exc.status}, error {exc.code}): {exc.msg}",
            is_permanent=not transient,
        ) from exc
    except (TwilioException, RequestException) as exc:
        raise DeliveryError(f"Twilio could not be reached: {exc}", is_permanent=False) from exc
    return str(created.sid)


def _sending_number(*, is_whatsapp: bool) -> str:
    number: str = (
        settings.KIWIDESK_TWILIO_WHATSAPP_FROM if is_whatsapp else settings.KIWIDESK_TWILIO_SMS_FROM
    )
    if not number:
        variable = "KIWIDESK_TWILIO_WHATSAPP_FROM" if is_whatsapp else "KIWIDESK_TWILIO_SMS_FROM"
        raise DeliveryError(f"{variable} is not set", is_permanent=True)
    return number


def _text(form: QueryDict) -> str:
    parts = [form.get("Body", "").strip(), _location(form), *_media(form)]
    return "\n".join(part for part in parts if part) or "[empty message]"


def _media(form: QueryDict) -> list[str]:
    links = []
    for index in range(MAX_MEDIA):
        url = form.get(f"MediaUrl{index}", "")
        if url:
            content_type = form.get(f"MediaContentType{index}", "") or "media"
            links.append(f"[Attachment: {content_type} {url}]")
    return links


def _location(form: QueryDict) -> str:
    latitude, longitude = form.get("Latitude", ""), form.get("Longitude", "")
    if not latitude or not longitude:
        return ""
    label = ", ".join(filter(None, (form.get("Label", ""), form.get("Address", ""))))
    return f"[Location: {latitude}, {longitude}] {label}".strip()


def _message_sid(form: QueryDict) -> str:
    return (form.get("MessageSid", "") or form.get("SmsMessageSid", "")).strip()


def _is_whatsapp(address: str) -> bool:
    return address.strip().lower().startswith(WHATSAPP_PREFIX)


def _number(address: str) -> str:
    address = address.strip()
    return address[len(WHATSAPP_PREFIX) :] if _is_whatsapp(address) else address
