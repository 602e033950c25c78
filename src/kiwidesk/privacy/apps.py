from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kiwidesk.privacy"
    label = "privacy"
    verbose_name = "Privacy and audit"
