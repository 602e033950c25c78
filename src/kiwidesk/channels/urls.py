"""Webhook endpoints of the channel adapters (each adapter adds its own paths)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from kiwidesk.channels.twilio import views as twilio
from kiwidesk.channels.whatsapp import views as whatsapp

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = [
    path("twilio/messages/", twilio.messages, name="twilio-messages"),
    path("twilio/status/", twilio.status, name="twilio-status"),
    path("whatsapp/webhook/", whatsapp.webhook, name="whatsapp-webhook"),
]
