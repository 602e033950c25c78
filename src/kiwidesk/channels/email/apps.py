from __future__ import annotations

from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "kiwidesk.channels.email"
    label = "channel_email"
    verbose_name = "Email channel"

    def ready(self) -> None:
        # Ingest re-processes quarantined mail through the parser registered here, and
        # the worker runs mail from providers' webhooks through the handler registered
        # here, so ingest never has to import a channel (the layers point one way).
        from kiwidesk.cases import outbox
        from kiwidesk.channels.email import outbound, providers
        from kiwidesk.channels.email.adapter import CHANNEL, parse
        from kiwidesk.ingest import handlers, parsers

        parsers.register(CHANNEL, parse)
        handlers.register(providers.HANDLER, providers.handle)
        outbox.register(CHANNEL, outbound.send)
