"""What the SMS and WhatsApp adapters share: numbers, the 24-hour window, inbound hand-off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.db.models import Max

from kiwidesk.cases.models import Channel, Direction, Message, Thread
from kiwidesk.cases.outbox import SendError
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import InvalidIdentityError, normalise_identity
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.services import UnroutableMessageError, ingest, quarantine


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's delivery report: which message, how far it came, why it failed, when."""

    external_id: str
    status: str
    error: str
    at: datetime | None = None


# WhatsApp's customer-service window: free-form messages only within 24 hours of the
# customer's last message; after that only a template the provider approved.
MESSAGING_WINDOW = timedelta(hours=24)


class UnreadablePayloadError(ValueError):
    """A webhook body that cannot become a message (no id, no usable sender number)."""


class OutsideMessagingWindowError(ValueError):
    """A free-form WhatsApp message after the customer's 24-hour window has closed."""


class MissingAddressError(ValueError):
    """The thread's contact has no number to send to on this channel."""


class DeliveryError(RuntimeError):
    """The provider refused or failed a send; `is_permanent` says whether a retry can help."""

    def __init__(self, reason: str, *, is_permanent: bool) -> None:
        super().__init__(reason)
        self.is_permanent = is_permanent


def e164(value: str) -> str:
    """The E.164 form of a number a provider sent, or UnreadablePayloadError."""
    try:
        return normalise_identity(IdentityKind.PHONE, value)
    except InvalidIdentityError as exc:
        raise UnreadablePayloadError(str(exc)) from None


def public_url(path: str, fallback: str) -> str:
    """The URL a provider called: KIWIDESK_PUBLIC_URL + path behind a proxy, else `fallback`.

    Signatures cover the URL as the provider saw it; behind a TLS-terminating proxy
    the request Django sees has another scheme or host, so the configured public
    base URL takes precedence.
    """
    base: str = settings.KIWIDESK_PUBLIC_URL
    if not base:
        return fallback
    return urljoin(base.rstrip("/") + "/", path.lstrip("/"))


def hand_over(
    raw: bytes,
    *,
    channel: str,
    source: str,
    external_id: str,
    parse: Callable[[], InboundMessage],
    adapter: str = "",
) -> None:
    """Parse and ingest one inbound message; what cannot be stored is quarantined, not lost.

    Only input errors are quarantined (with the raw bytes). A database or programming
    error propagates, so the worker retries the delivery (ingest.deliveries.process)
    and quarantines it only once retrying has not helped.
    """
    try:
        ingest(parse())
    except UnreadablePayloadError as exc:
        reason = str(exc)
    except UnroutableMessageError as exc:
        reason = f"{exc.reason}: {exc.detail}"
    else:
        return
    quarantine(
        raw, channel=channel, adapter=adapter, source=source, external_id=external_id, reason=reason
    )


def outbound_message(external_id: str) -> Message | None:
    """The message we sent that a provider's status callback names by its (non-empty) id."""
    return (
        Message.objects.select_related("case", "thread")
        .filter(direction=Direction.OUTBOUND, external_id=external_id)
        .order_by("-id")
        .first()
    )


def messaging_window_closes_at(thread: Thread) -> datetime | None:
    """When free-form messages to this WhatsApp thread stop being allowed (None: never opened)."""
    last_inbound: datetime | None = Message.objects.filter(
        thread=thread, direction=Direction.INBOUND
    ).aggregate(last=Max("created_at"))["last"]
    return None if last_inbound is None else last_inbound + MESSAGING_WINDOW


def ensure_messaging_window(thread: Thread, *, at: datetime) -> None:
    """Raise OutsideMessagingWindowError for a free-form message to this WhatsApp thread
    when its customer has not written in the last 24 hours (or never has)."""
    closes_at = messaging_window_closes_at(thread)
    if closes_at is None or at >= closes_at:
        raise OutsideMessagingWindowError(
            "The customer last wrote more than 24 hours ago, so WhatsApp allows only an "
            "approved template message until they write again."
        )


def recipient_number(thread: Thread) -> str:
    """The E.164 number of the thread's contact on its channel (WhatsApp first, then phone)."""
    kinds = [IdentityKind.PHONE]
    if thread.channel == Channel.WHATSAPP:
        kinds = [IdentityKind.WHATSAPP, IdentityKind.PHONE]
    found = {}
    if thread.contact is not None:
        found = {i.kind: i.value for i in thread.contact.identities.filter(kind__in=kinds)}
    for kind in kinds:
        if kind in found:
            return found[kind]
    raise MissingAddressError(f"the contact of thread {thread.pk} has no phone number")


def outbox_sender(send: Callable[[Message], str]) -> Callable[[Message], str]:
    """An adapter's send as the outbox expects it: every refusal becomes a SendError.

    A closed WhatsApp window or a contact without a number cannot be cured by
    retrying; a DeliveryError says for itself whether it can.
    """

    def send_for_outbox(message: Message) -> str:
        try:
            return send(message)
        except DeliveryError as exc:
            raise SendError(str(exc), is_permanent=exc.is_permanent) from exc
        except (OutsideMessagingWindowError, MissingAddressError) as exc:
            raise SendError(str(exc), is_permanent=True) from exc

    return send_for_outbox


def check_messaging_window(thread: Thread, at: datetime) -> None:
    """The outbox's check for WhatsApp: refuse free-form text once the window has closed."""
    ensure_messaging_window(thread, at=at)
