from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kiwidesk.web"
    label = "web"
    verbose_name = "Agent web UI"
