from __future__ import annotations

from django.contrib import admin

from kiwidesk.channels.webchat.models import ChatSession


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin[ChatSession]):
    """Chats as the support engineer checks them: who, where, when they ended, the transcript."""

    list_display = ["public_id", "team", "origin", "email", "started_at", "ended_at", "end_reason"]
    list_filter = ["end_reason", "team"]
    search_fields = ["public_id", "email", "origin"]
    exclude = ["token_hash", "client_hash"]
    readonly_fields = [
        "public_id",
        "thread",
        "started_at",
        "last_seen_at",
        "ended_at",
        "end_reason",
        "last_entry_id",
        "transcript_sent_at",
        "transcript_attempts",
    ]
