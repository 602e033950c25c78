from __future__ import annotations

from django.contrib import admin

from kiwidesk.channels.whatsapp.models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin[MessageTemplate]):
    list_display = ["name", "language", "is_active", "body"]
    list_filter = ["is_active", "language"]
    search_fields = ["name", "body"]
