from __future__ import annotations

from django.apps import AppConfig


class TwilioConfig(AppConfig):
    name = "kiwidesk.channels.twilio"
    label = "channels_twilio"
    verbose_name = "SMS and WhatsApp through Twilio"

    def ready(self) -> None:
        from kiwidesk.cases import outbox
        from kiwidesk.cases.models import Channel
        from kiwidesk.channels.common import outbox_sender
        from kiwidesk.channels.twilio import adapter, media, views, voice_views
        from kiwidesk.ingest import handlers, parsers

        parsers.register(adapter.ADAPTER, media.parse_with_media)
        handlers.register(views.MESSAGES, views.handle_message)
        handlers.register(views.STATUS, views.handle_status)
        handlers.register(voice_views.CALL_STATUS, voice_views.handle_call_status)
        handlers.register(voice_views.RECORDING, voice_views.handle_recording)
        handlers.register(voice_views.TRANSCRIPTION, voice_views.handle_transcription)
        # WhatsApp through Twilio is sent by the WhatsApp app, which picks the provider.
        outbox.register(Channel.SMS, outbox_sender(adapter.send))
