"""Tags only: the case content models are registered by privacy.case_admin, behind the gate."""

from __future__ import annotations

from django.contrib import admin

from kiwidesk.cases.models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ["name"]
