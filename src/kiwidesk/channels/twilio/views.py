"""Twilio's webhooks: inbound messages and delivery-status callbacks."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kiwidesk.cases.services import record_delivery
from kiwidesk.channels.common import hand_over, outbound_message, public_url
from kiwidesk.channels.twilio import adapter


@csrf_exempt
@require_POST
def messages(request: HttpRequest) -> HttpResponse:
    """Store an inbound SMS or WhatsApp message and answer with empty TwiML (no auto-reply)."""
    raw = request.body
    if not _is_signed(request, raw):
        return HttpResponseForbidden("bad signature")
    where = adapter.envelope(raw)
    hand_over(
        raw,
        channel=where.channel,
        source=where.source,
        external_id=where.external_id,
        parse=lambda: adapter.parse(raw),
        adapter=adapter.ADAPTER,
    )
    return HttpResponse(adapter.EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """Move the named outbound message's delivery status forward."""
    raw = request.body
    if not _is_signed(request, raw):
        return HttpResponseForbidden("bad signature")
    update = adapter.parse_status(raw)
    message = outbound_message(update.external_id) if update else None
    if update is not None and message is not None:
        record_delivery(message, update.status, at=timezone.now(), error=update.error)
    return HttpResponse(status=204)


def _is_signed(request: HttpRequest, raw: bytes) -> bool:
    return adapter.verify(
        raw,
        url=public_url(request.get_full_path(), request.build_absolute_uri()),
        signature=request.headers.get(adapter.SIGNATURE_HEADER, ""),
        auth_token=settings.KIWIDESK_TWILIO_AUTH_TOKEN,
    )
