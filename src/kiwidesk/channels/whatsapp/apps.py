from __future__ import annotations

from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    name = "kiwidesk.channels.whatsapp"
    label = "channels_whatsapp"
    verbose_name = "WhatsApp Cloud API"

    def ready(self) -> None:
        from kiwidesk.channels.whatsapp import adapter
        from kiwidesk.ingest import parsers

        # WhatsApp arrives from Meta (JSON) or through Twilio (a form); one parser
        # tells them apart, so a quarantined item of either can be re-processed.
        parsers.register("whatsapp", adapter.parse_any)
