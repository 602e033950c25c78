"""Webhook endpoints of the channel adapters (each adapter adds its own paths)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from kiwidesk.channels.email import provider_views as mail
from kiwidesk.channels.twilio import views as twilio
from kiwidesk.channels.twilio import voice_views as twilio_voice
from kiwidesk.channels.whatsapp import views as whatsapp

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = [
    path("twilio/messages/", twilio.messages, name="twilio-messages"),
    path("twilio/status/", twilio.status, name="twilio-status"),
    path("twilio/voice/status/", twilio_voice.call_status, name="twilio-voice-status"),
    path("twilio/voice/recording/", twilio_voice.recording_status, name="twilio-voice-recording"),
    path(
        "twilio/voice/transcription/",
        twilio_voice.transcription,
        name="twilio-voice-transcription",
    ),
    path("whatsapp/webhook/", whatsapp.webhook, name="whatsapp-webhook"),
    path("chat/", include("kiwidesk.channels.webchat.urls")),
    path("mail/<slug:provider>/inbound/", mail.inbound, name="mail-inbound"),
    # Mailgun posts the raw MIME mail only to a forward URL ending in "mime".
    path("mail/<slug:provider>/inbound/mime", mail.inbound, name="mail-inbound-mime"),
]
