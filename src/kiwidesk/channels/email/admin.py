from __future__ import annotations

from django.contrib import admin

from kiwidesk.channels.email.models import Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin[Mailbox]):
    list_display = ["name", "username", "host", "folder", "team", "is_active", "last_checked_at",
                    "last_error"]  # fmt: skip
    list_filter = ["is_active", "team"]
    search_fields = ["name", "username", "host"]
    readonly_fields = ["source", "uidvalidity", "last_uid", "last_checked_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["name", "team", "is_active"]}),
        ("Server", {"fields": ["host", "port", "use_ssl", "username", "password_env", "folder"]}),
        (
            "Progress",
            {"fields": ["source", "uidvalidity", "last_uid", "last_checked_at", "last_error"]},
        ),
    ]

    @admin.display(description="Ingest source")
    def source(self, mailbox: Mailbox) -> str:
        return mailbox.source
