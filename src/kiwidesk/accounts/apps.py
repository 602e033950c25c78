from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kiwidesk.accounts"
    label = "accounts"
    verbose_name = "Agents and teams"
