from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kiwidesk.privacy import case_admin  # noqa: F401 -- registers the case content admins
from kiwidesk.privacy.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin[AuditRecord]):
    list_display = [
        "sequence",
        "created_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "outcome",
    ]
    list_filter = ["outcome", "action", "object_type"]
    search_fields = ["object_id", "actor_label"]

    # The audit log is append-only, even for admins.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
