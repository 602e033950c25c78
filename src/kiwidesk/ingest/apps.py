from __future__ import annotations

from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "kiwidesk.ingest"
    label = "ingest"
    verbose_name = "Inbound messages"
