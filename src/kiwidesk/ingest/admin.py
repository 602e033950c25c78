from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kiwidesk.cases.models import Channel
from kiwidesk.ingest import deliveries, parsers, services
from kiwidesk.ingest.models import QuarantinedMessage, Receipt

# What a downloaded original is saved as, per channel; anything else is plain bytes.
_RAW_TYPES: dict[str, tuple[str, str]] = {Channel.EMAIL: ("message/rfc822", "eml")}


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(admin.ModelAdmin[QuarantinedMessage]):
    list_display = ["id", "received_at", "channel", "source", "reason", "reprocessed_at",
                    "message"]  # fmt: skip
    list_filter = ["channel", "reason", ("reprocessed_at", admin.EmptyFieldListFilter)]
    search_fields = ["source", "external_id", "reason"]
    date_hierarchy = "received_at"
    readonly_fields = ["channel", "source", "external_id", "reason", "received_at",
                       "reprocessed_at", "message", "size", "download"]  # fmt: skip
    exclude = ["raw"]
    actions = ["reprocess"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        raw = path(
            "<int:pk>/raw/",
            self.admin_site.admin_view(self.raw_view),
            name="ingest_quarantinedmessage_raw",
        )
        return [raw, *super().get_urls()]

    def raw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Download the kept bytes exactly as they were received."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = get_object_or_404(QuarantinedMessage, pk=pk)
        content_type, extension = _RAW_TYPES.get(item.channel, ("application/octet-stream", "bin"))
        response = HttpResponse(bytes(item.raw), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="quarantined-{pk}.{extension}"'
        return response

    @admin.display(description="size (bytes)")
    def size(self, item: QuarantinedMessage) -> int:
        return len(item.raw)

    @admin.display(description="original")
    def download(self, item: QuarantinedMessage) -> SafeString:
        url = reverse("admin:ingest_quarantinedmessage_raw", args=[item.pk])
        return format_html('<a href="{}">Download the raw bytes</a>', url)

    @admin.action(description="Re-process the selected items")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[QuarantinedMessage]) -> None:
        for item in queryset.filter(reprocessed_at__isnull=True):
            try:
                done = self._reprocess(item)
            # Whatever a parser raises is reported for its item; the others still run.
            except Exception as error:
                self.message_user(request, f"Item {item.pk}: {error}", messages.ERROR)
                continue
            self.message_user(request, f"Item {item.pk} {done}.", messages.SUCCESS)

    def _reprocess(self, item: QuarantinedMessage) -> str:
        # A body with a handler but no parser (several messages, a callback) goes back
        # to the worker; one message is parsed and ingested here.
        if not parsers.has_parser(item.adapter or item.channel) and item.adapter:
            deliveries.redeliver(item)
            return "was handed back to the worker"
        result = services.reprocess(item)
        return f"is now a message on case {result.case.pk}"


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin[Receipt]):
    list_display = ["id", "received_at", "source", "external_id", "sender", "message"]
    search_fields = ["=external_id", "sender"]
    raw_id_fields = ["message"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Receipt | None = None) -> bool:
        return False
