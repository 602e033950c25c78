"""Webhook endpoints of the channel adapters (each adapter adds its own paths)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = []
