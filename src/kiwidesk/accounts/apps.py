from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kiwidesk.accounts"
    label = "accounts"
    verbose_name = "Agents and teams"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from kiwidesk.accounts.sessions import stamp_login

        # Infrastructure, not domain flow: the session's own bookkeeping.
        user_logged_in.connect(stamp_login, dispatch_uid="kiwidesk-stamp-login")
