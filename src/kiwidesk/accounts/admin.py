from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from kiwidesk.accounts.models import Agent, ApiToken, Team


def login_through_kiwidesk(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin site's login: Kiwidesk's own, so the second factor and lockout apply.

    The admin's form would log in with the password alone. An agent already logged in
    comes here only when they may not use the admin site: redirecting would loop.
    """
    if request.user.is_authenticated:
        raise PermissionDenied("Your account may not use the admin site.")
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(next_url, login_url=reverse("web:login"))


admin.site.login = login_through_kiwidesk  # type: ignore[method-assign]


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
    list_display = [
        "prefix",
        "agent",
        "name",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at", "scopes"]
    # Scopes are read-only here: a clinical scope has preconditions the service checks.
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at", "scopes"]
    search_fields = ["agent__email", "prefix"]
