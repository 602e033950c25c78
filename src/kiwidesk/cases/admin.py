from __future__ import annotations

from django.contrib import admin

from kiwidesk.cases.models import Attachment, Call, Case, Event, Message, Tag, Thread


class ThreadInline(admin.TabularInline[Thread, Case]):
    model = Thread
    extra = 0
    fields = ["party", "channel", "contact", "subject", "last_message_at"]
    raw_id_fields = ["contact"]
    show_change_link = True


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ["id", "subject", "status", "priority", "sensitivity", "team", "assignee",
                    "updated_at"]  # fmt: skip
    list_filter = ["status", "priority", "sensitivity", "channel", "team"]
    search_fields = ["=id", "subject", "customer__name"]
    raw_id_fields = ["customer", "assignee", "merged_into"]
    filter_horizontal = ["tags"]
    date_hierarchy = "created_at"
    list_select_related = ["team", "assignee"]
    show_full_result_count = False
    inlines = [ThreadInline]


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin[Thread]):
    list_display = ["id", "case", "party", "channel", "contact", "last_message_at"]
    list_filter = ["party", "channel"]
    raw_id_fields = ["case", "contact"]
    show_full_result_count = False


class AttachmentInline(admin.TabularInline[Attachment, Message]):
    model = Attachment
    extra = 0
    readonly_fields = ["sha256", "size"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ["id", "case", "direction", "delivery_status", "created_at"]
    list_filter = ["direction", "delivery_status"]
    search_fields = ["=case__id", "external_id"]
    raw_id_fields = ["case", "thread", "author_agent", "author_contact"]
    show_full_result_count = False
    inlines = [AttachmentInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["id", "case", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=case__id"]
    raw_id_fields = ["case", "actor", "thread", "message"]
    show_full_result_count = False

    # Events are the immutable record; the admin may read them, never rewrite them.
    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ["name"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin[Attachment]):
    list_display = ["filename", "content_type", "size", "message"]
    raw_id_fields = ["message"]
    search_fields = ["filename", "sha256"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin[Call]):
    list_display = ["id", "message", "outcome", "duration_seconds", "started_at", "source"]
    list_filter = ["outcome", "source"]
    search_fields = ["=message__case__id", "provider_call_id"]
    raw_id_fields = ["message", "recording"]
    show_full_result_count = False
