"""Meta's WhatsApp webhook: the subscription handshake (GET) and notifications (POST).

A verified body is stored as an ingest Delivery and answered at once; `handle`
runs in the worker (registered in apps.py).
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kiwidesk.cases.models import Channel
from kiwidesk.cases.services import record_delivery
from kiwidesk.channels.common import UnreadablePayloadError, hand_over, outbound_message
from kiwidesk.channels.whatsapp import adapter
from kiwidesk.channels.whatsapp.media import parse_with_media
from kiwidesk.ingest import deliveries
from kiwidesk.ingest.services import quarantine

# The handler name of the webhook's deliveries, and the source of a whole body
# (each message in it names its own phone number id).
WEBHOOK = "whatsapp-webhook"
SOURCE = "whatsapp-webhook"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    raw = request.body
    signature = request.headers.get(adapter.SIGNATURE_HEADER, "")
    if not adapter.verify(
        raw, signature=signature, app_secret=settings.KIWIDESK_WHATSAPP_APP_SECRET
    ):
        return HttpResponseForbidden("bad signature")
    deliveries.accept(raw, adapter=WEBHOOK, channel=Channel.WHATSAPP, source=SOURCE)
    return HttpResponse(status=200)


def handle(raw: bytes, source: str) -> None:
    """Ingest each message and apply each status of an accepted body; quarantine the unreadable.

    Meta batches several messages and statuses in one body. The body is one
    Delivery, processed in one transaction: if one message fails for a reason worth
    retrying, the whole body is retried, and ingest's idempotency stores each once.
    """
    try:
        notification = adapter.split(raw)
    except UnreadablePayloadError as exc:
        quarantine(raw, channel=Channel.WHATSAPP, adapter=WEBHOOK, source=source, reason=str(exc))
        return
    _store(notification)


def _handshake(request: HttpRequest) -> HttpResponse:
    challenge = adapter.handshake(
        request.GET.dict(), verify_token=settings.KIWIDESK_WHATSAPP_VERIFY_TOKEN
    )
    if challenge is None:
        return HttpResponseForbidden("verification failed")
    return HttpResponse(challenge, content_type="text/plain")


def _store(notification: adapter.Webhook) -> None:
    for item in notification.messages:
        hand_over(
            item.raw,
            channel=Channel.WHATSAPP,
            source=item.source,
            external_id=item.external_id,
            parse=partial(parse_with_media, item.raw, item.source),
        )
    for update in notification.statuses:
        message = outbound_message(update.external_id)
        if message is not None:
            at = update.at or timezone.now()
            record_delivery(message, update.status, at=at, error=update.error)
