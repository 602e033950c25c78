from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kiwidesk.privacy"
    label = "privacy"
    verbose_name = "Privacy and audit"

    def ready(self) -> None:
        from kiwidesk.privacy import admin_changes

        admin_changes.connect()
