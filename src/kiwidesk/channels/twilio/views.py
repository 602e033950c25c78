"""Twilio's webhooks: inbound messages and delivery-status callbacks.

A verified body is stored as an ingest Delivery and answered at once; the handlers
below run in the worker (registered in apps.py).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kiwidesk.cases.services import record_delivery
from kiwidesk.channels.common import hand_over, outbound_message, public_url
from kiwidesk.channels.twilio import adapter
from kiwidesk.channels.twilio.media import parse_with_media
from kiwidesk.ingest import deliveries

# The handler names of the two webhooks' deliveries (the inbound one is also the
# parser name quarantined bodies are re-read with).
MESSAGES = adapter.ADAPTER
STATUS = "twilio-status"


@csrf_exempt
@require_POST
def messages(request: HttpRequest) -> HttpResponse:
    """Accept an inbound SMS or WhatsApp message and answer with empty TwiML (no auto-reply)."""
    return _accept(request, MESSAGES) or HttpResponse(adapter.EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """Accept a delivery-status callback; the worker moves the message's status forward."""
    return _accept(request, STATUS) or HttpResponse(status=204)


def _accept(request: HttpRequest, handler: str) -> HttpResponse | None:
    """Keep a signed body for the worker's `handler`; a refusal response when unsigned."""
    raw = request.body
    if not is_signed(request, raw):
        return HttpResponseForbidden("bad signature")
    where = adapter.envelope(raw)
    deliveries.accept(raw, adapter=handler, channel=where.channel, source=where.source)
    return None


def handle_message(raw: bytes, source: str) -> None:
    """Ingest an accepted inbound-message body, or quarantine it."""
    where = adapter.envelope(raw)
    hand_over(
        raw,
        channel=where.channel,
        source=source,
        external_id=where.external_id,
        parse=lambda: parse_with_media(raw, source),
        adapter=adapter.ADAPTER,
    )


def handle_status(raw: bytes, source: str) -> None:
    """Move the named outbound message's delivery status forward (unknown ones are ignored)."""
    update = adapter.parse_status(raw)
    message = outbound_message(update.external_id) if update else None
    if update is not None and message is not None:
        record_delivery(message, update.status, at=timezone.now(), error=update.error)


def is_signed(request: HttpRequest, raw: bytes) -> bool:
    """Whether `raw` carries Twilio's signature for the URL Twilio called."""
    return adapter.verify(
        raw,
        url=public_url(request.get_full_path(), request.build_absolute_uri()),
        signature=request.headers.get(adapter.SIGNATURE_HEADER, ""),
        auth_token=settings.KIWIDESK_TWILIO_AUTH_TOKEN,
    )
