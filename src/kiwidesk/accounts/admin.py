from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from kiwidesk.accounts.models import Agent, ApiToken, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "slug", "email", "merges_new_cases"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Agent)
class AgentAdmin(UserAdmin[Agent]):
    ordering = ["name"]
    list_display = ["email", "name", "role", "clearance", "is_active", "is_staff"]
    list_filter = ["role", "clearance", "is_active", "teams"]
    search_fields = ["email", "name"]
    filter_horizontal = ["teams", "groups", "user_permissions"]
    fieldsets = [
        (None, {"fields": ["email", "name", "password"]}),
        ("Work", {"fields": ["role", "clearance", "teams"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]}),
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["prefix", "agent", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]
    search_fields = ["agent__email", "prefix"]
