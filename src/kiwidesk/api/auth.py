"""Who is calling: a bearer token, or the agent logged in to the web UI."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import agent_for_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <secret>`; only the secret's digest is stored."""

    def authenticate(self, request: HttpRequest, token: str) -> Agent | None:
        if not token:
            return None
        return agent_for_token(token)


class SessionAuth(APIKeyCookie):
    """The browser's session cookie, with Django's CSRF check.

    Unlike ninja's SessionAuth, the CSRF check runs only once a session agent is
    found, so an anonymous request answers 401 rather than a misleading 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Agent | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not isinstance(user, Agent):
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Agent | None:
        return None  # pragma: no cover - __call__ reads the session, not the raw cookie


def current_agent(request: HttpRequest) -> Agent:
    """The agent the auth classes found; every operation requires one."""
    agent: Agent = request.auth  # type: ignore[attr-defined]
    return agent
