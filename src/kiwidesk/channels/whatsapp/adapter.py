"""WhatsApp through Meta's Cloud API: verify a webhook, parse its messages, send through Graph.

A webhook body may hold several entries, changes and messages. `split` cuts it into
one small envelope per message (its metadata, contacts and that one message), which
is what `parse` reads, what ingest stores as the raw bytes and what quarantine keeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from kiwidesk.cases.models import Channel, DeliveryStatus, Message
from kiwidesk.channels.common import (
    StatusUpdate,
    UnreadablePayloadError,
    e164,
    ensure_messaging_window,
    recipient_number,
)
from kiwidesk.channels.whatsapp.client import GraphClient, graph_client
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.ingest.contract import InboundMessage, Sender

SIGNATURE_HEADER = "X-Hub-Signature-256"
UNSUPPORTED = "[unsupported message]"
# Sources name the provider, so a Twilio number and a Meta phone number id never collide.
SOURCE_PREFIX = "whatsapp:"

# Reactions are not stored: an emoji on one of our messages is not something to
# answer, and storing it as a message would reopen a solved case on a thumbs-up.
IGNORED_TYPES = frozenset({"reaction"})

DELIVERY_STATUSES: dict[str, str] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,  # a voice message listened to
    "failed": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class Item:
    """One inbound message cut out of a webhook body, with what quarantine needs."""

    raw: bytes
    source: str
    external_id: str


@dataclass(frozen=True)
class Webhook:
    messages: tuple[Item, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


@dataclass(frozen=True)
class Template:
    """An approved template message: its name, language and filled-in components."""

    name: str
    language: str = "en_US"
    components: tuple[dict[str, Any], ...] = field(default=())


def verify(raw: bytes, *, signature: str, app_secret: str) -> bool:
    """Check X-Hub-Signature-256 ("sha256=" + HMAC-SHA256 of the raw body), in constant time."""
    if not app_secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    given = signature.removeprefix("sha256=").strip().lower()
    return hmac.compare_digest(expected.encode(), given.encode(errors="replace"))


def handshake(params: Mapping[str, str], *, verify_token: str) -> str | None:
    """The challenge to echo when Meta subscribes with our verify token, else None."""
    token = params.get("hub.verify_token", "")
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(token.encode(errors="replace"), verify_token.encode()):
        return None
    return params.get("hub.challenge", "")


def split(raw: bytes) -> Webhook:
    """Cut a webhook body into its messages and delivery statuses; other fields are ignored.

    Raises UnreadablePayloadError for a body that is not a JSON object.
    """
    body = _json_object(raw)
    messages: list[Item] = []
    statuses: list[StatusUpdate] = []
    for value in _message_values(body):
        source = _source(value)
        messages += [_item(value, message, source) for message in _inbound(value)]
        statuses += [s for s in map(_status, _dicts(value.get("statuses"))) if s is not None]
    return Webhook(tuple(messages), tuple(statuses))


def parse(raw: bytes, source: str = "") -> InboundMessage:
    """Turn one message envelope (from `split`) into an InboundMessage."""
    value = _json_object(raw)
    message = next(iter(_dicts(value.get("messages"))), None)
    if message is None or not message.get("id"):
        raise UnreadablePayloadError("the envelope holds no message with an id")
    number = e164("+" + str(message.get("from", "")).lstrip("+"))
    context = _dict(message.get("context"))
    return InboundMessage(
        channel=Channel.WHATSAPP,
        source=source or _source(value),
        external_id=str(message["id"]),
        sender=Sender(IdentityKind.WHATSAPP, number, name=_profile_name(value, message)),
        text=render(message),
        sent_at=_timestamp(message.get("timestamp")),
        in_reply_to=str(context.get("id", "")),
        is_automated=message.get("type") == "system",
        raw=raw,
    )


@dataclass(frozen=True)
class MediaRef:
    """A file a customer sent, held by Meta under `media_id` until we download it."""

    media_id: str
    mime_type: str
    filename: str
    label: str


def media_refs(raw: bytes) -> list[MediaRef]:
    """The media of one message envelope (from `split`); empty for other types."""
    message = next(iter(_dicts(_json_object(raw).get("messages"))), {})
    kind = str(message.get("type", ""))
    body = _dict(message.get(kind))
    if kind not in MEDIA_TYPES or not body.get("id"):
        return []
    media_id = _str(body.get("id"))
    name = _str(body.get("filename")) or f"whatsapp-{kind}-{media_id}"
    return [MediaRef(media_id, _str(body.get("mime_type")), name, MEDIA_TYPES[kind])]


def render(message: dict[str, Any]) -> str:
    """The text an agent reads for one message; an unknown type is shown, never dropped."""
    kind = str(message.get("type", ""))
    renderer = _RENDERERS.get(kind)
    text = (renderer(message.get(kind)) if renderer else "") or UNSUPPORTED
    context = _dict(message.get("context"))
    if context.get("forwarded") or context.get("frequently_forwarded"):
        text = f"[Forwarded] {text}"
    referral = _dict(message.get("referral"))
    if referral:
        text += (
            f"\n[From an ad: {_str(referral.get('headline'))} {_str(referral.get('source_url'))}]"
        )
    return text


def send(
    message: Message,
    *,
    template: Template | None = None,
    client: GraphClient | None = None,
    at: datetime | None = None,
) -> str:
    """Send a text, or an approved template, to the thread's contact; return the wamid.

    Free-form text outside the customer's 24-hour window raises
    OutsideMessagingWindowError before anything is sent; a template is always allowed.
    """
    thread = message.thread
    if template is None:
        ensure_messaging_window(thread, at=at or timezone.now())
    to = recipient_number(thread)
    payload = _template_payload(to, template) if template else _text_payload(to, message)
    return (client or graph_client()).send_message(payload)


def _text_payload(to: str, message: Message) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": message.body_text},
    }


def _template_payload(to: str, template: Template) -> dict[str, Any]:
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if template.components:
        body["components"] = list(template.components)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": body,
    }


def _message_values(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _dict(change.get("value"))
        for entry in _dicts(body.get("entry"))
        for change in _dicts(entry.get("changes"))
        if change.get("field") == "messages"
    ]


def _inbound(value: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in _dicts(value.get("messages")) if m.get("type") not in IGNORED_TYPES]


def _item(value: dict[str, Any], message: dict[str, Any], source: str) -> Item:
    envelope = {
        "metadata": _dict(value.get("metadata")),
        "contacts": _dicts(value.get("contacts")),
        "messages": [message],
    }
    raw = json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode()
    return Item(raw, source, str(message.get("id", "")))


def _status(status: dict[str, Any]) -> StatusUpdate | None:
    mapped = DELIVERY_STATUSES.get(str(status.get("status", "")).lower())
    if mapped is None or not status.get("id") or status.get("type") == "call":
        return None
    errors = _dicts(status.get("errors"))
    error = " ".join(_str(errors[0].get(k)) for k in ("code", "title")) if errors else ""
    return StatusUpdate(str(status["id"]), mapped, error, _timestamp(status.get("timestamp")))


def _source(value: dict[str, Any]) -> str:
    return SOURCE_PREFIX + _str(_dict(value.get("metadata")).get("phone_number_id"))


def _profile_name(value: dict[str, Any], message: dict[str, Any]) -> str:
    for contact in _dicts(value.get("contacts")):
        if contact.get("wa_id") == message.get("from"):
            return _str(_dict(contact.get("profile")).get("name"))
    return ""


def _text(body: Any) -> str:
    return _str(_dict(body).get("body"))


def _media(label: str) -> Callable[[Any], str]:
    def rendered(body: Any) -> str:
        media = _dict(body)
        name = "Voice message" if media.get("voice") else label
        details = ", ".join(
            part
            for part in (
                _str(media.get("mime_type")),
                _str(media.get("filename")),
                f"media id {_str(media.get('id'))}",
            )
            if part
        )
        return f"[{name}: {details}] {_str(media.get('caption'))}".strip()

    return rendered


def _location(body: Any) -> str:
    place = _dict(body)
    where = f"{_str(place.get('latitude'))}, {_str(place.get('longitude'))}"
    label = ", ".join(_str(place.get(k)) for k in ("name", "address", "url") if place.get(k))
    return f"[Location: {where}] {label}".strip()


def _interactive(body: Any) -> str:
    reply = _dict(body)
    kind = _str(reply.get("type"))
    answer = _dict(reply.get(kind))
    if kind in ("button_reply", "list_reply"):
        parts = (_str(answer.get("title")), _str(answer.get("description")))
        return " — ".join(part for part in parts if part)
    if kind == "nfm_reply":
        return f"[Form reply] {_str(answer.get('body'))} {_str(answer.get('response_json'))}"
    if kind == "call_permission_reply":
        return f"[Call permission: {_str(answer.get('response'))}]"
    return ""


def _button(body: Any) -> str:
    return _str(_dict(body).get("text"))


def _contacts(body: Any) -> str:
    cards = []
    for card in _dicts(body):
        name = _str(_dict(card.get("name")).get("formatted_name"))
        phones = ", ".join(_str(p.get("phone")) for p in _dicts(card.get("phones")))
        cards.append(f"[Contact: {name} {phones}]".replace(" ]", "]"))
    return "\n".join(cards)


def _order(body: Any) -> str:
    order = _dict(body)
    lines = [
        f"{_str(item.get('quantity'))} x {_str(item.get('product_retailer_id'))} at "
        f"{_str(item.get('item_price'))} {_str(item.get('currency'))}"
        for item in _dicts(order.get("product_items"))
    ]
    return "\n".join(["[Order]", *lines, _str(order.get("text"))]).strip()


def _system(body: Any) -> str:
    return f"[WhatsApp] {_text(body)}".strip() if _text(body) else ""


def _edit(body: Any) -> str:
    edited = _dict(_dict(body).get("message"))
    return f"[Edited] {render(edited)}" if edited else ""


def _revoke(body: Any) -> str:
    return "[The customer deleted a message]"


MEDIA_TYPES = {
    "image": "Image",
    "video": "Video",
    "audio": "Audio",
    "document": "Document",
    "sticker": "Sticker",
}
_RENDERERS: dict[str, Callable[[Any], str]] = {
    "text": _text,
    "image": _media("Image"),
    "video": _media("Video"),
    "audio": _media("Audio"),
    "document": _media("Document"),
    "sticker": _media("Sticker"),
    "location": _location,
    "interactive": _interactive,
    "button": _button,
    "contacts": _contacts,
    "order": _order,
    "system": _system,
    "edit": _edit,
    "revoke": _revoke,
}


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadablePayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise UnreadablePayloadError("the body is not a JSON object")
    return body


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str:
    """A scalar from the payload as text; a missing or nested value is empty."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)
