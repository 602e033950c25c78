from __future__ import annotations

from django.apps import AppConfig


class TwilioConfig(AppConfig):
    name = "kiwidesk.channels.twilio"
    label = "channels_twilio"
    verbose_name = "SMS and WhatsApp through Twilio"

    def ready(self) -> None:
        from kiwidesk.channels.twilio import adapter
        from kiwidesk.ingest import parsers

        parsers.register(adapter.ADAPTER, adapter.parse)
