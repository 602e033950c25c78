from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.conf import settings

if TYPE_CHECKING:
    from kiwidesk.cases.models import Message


class WhatsAppConfig(AppConfig):
    name = "kiwidesk.channels.whatsapp"
    label = "channels_whatsapp"
    verbose_name = "WhatsApp Cloud API"

    def ready(self) -> None:
        from kiwidesk.cases import outbox
        from kiwidesk.channels.common import check_messaging_window, outbox_sender
        from kiwidesk.channels.whatsapp import erasure, media, views
        from kiwidesk.ingest import handlers, parsers

        # WhatsApp arrives from Meta (JSON) or through Twilio (a form); one parser
        # tells them apart, so a quarantined item of either can be re-processed.
        parsers.register("whatsapp", media.parse_any_with_media)
        handlers.register(views.WEBHOOK, views.handle)
        outbox.register("whatsapp", outbox_sender(send_whatsapp), check=check_messaging_window)
        erasure.register()


def send_whatsapp(message: Message) -> str:
    """Send through Meta's Cloud API when it is configured, else through Twilio."""
    # Imported on use: model-importing modules cannot load before the app registry.
    from kiwidesk.channels.common import DeliveryError
    from kiwidesk.channels.twilio import adapter as twilio
    from kiwidesk.channels.whatsapp import adapter as meta
    from kiwidesk.channels.whatsapp.templates import template_of

    template = template_of(message)
    if settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN:
        return meta.send(message, template=template)
    if settings.KIWIDESK_TWILIO_WHATSAPP_FROM:
        # Twilio matches a body that reads exactly as an approved template to it, so
        # the rendered text is what it needs outside the window.
        return twilio.send(message, preapproved=template is not None)
    raise DeliveryError(
        "No WhatsApp provider is configured: set KIWIDESK_WHATSAPP_ACCESS_TOKEN (Meta) "
        "or KIWIDESK_TWILIO_WHATSAPP_FROM (Twilio).",
        is_permanent=True,
    )
