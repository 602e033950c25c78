"""Middleware for the hardening settings that Django and django-csp leave to the project."""

from __future__ import annotations

import time
from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from kiwidesk.accounts.sessions import SESSION_RENEWED_KEY, SESSION_STARTED_KEY

# Renewing the idle timeout is a session write; once a minute is precise enough and
# spares SQLite a write lock on every page view.
RENEW_EVERY_SECONDS = 60


class PathPolicyMiddleware(CSPMiddleware):
    """The project's CSP, plus the additions KIWIDESK_CSP_PATH_UPDATES names for a path.

    A per-path setting rather than decorators, because the views that need more
    (Swagger UI, the chat demo page) belong to packages that should not know about CSP.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or parts.update is not None:
            return parts
        for prefix, update in settings.KIWIDESK_CSP_PATH_UPDATES.items():
            if request.path_info.startswith(prefix):
                parts.update = update
                break
        return parts


class SessionLifetimeMiddleware:
    """The idle timeout and the cap on a login session.

    Idle: the session expires SESSION_COOKIE_AGE after it was last saved, and it is
    saved again (renewed) at most once a minute while in use. Cap: it ends
    KIWIDESK_SESSION_MAX_HOURS after login, however active it stays.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session, now = request.session, time.time()
        started_at = session.setdefault(SESSION_STARTED_KEY, now)
        if now - started_at > settings.KIWIDESK_SESSION_MAX_HOURS * 3600:
            logout(request)
            messages.info(request, "Your session has ended: please log in again.")
            return
        if now - session.get(SESSION_RENEWED_KEY, 0) > RENEW_EVERY_SECONDS:
            session[SESSION_RENEWED_KEY] = now
