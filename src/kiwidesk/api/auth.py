"""Who is calling: a bearer token, or the agent logged in to the web UI."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from kiwidesk.accounts.models import Agent, ApiToken, Scope
from kiwidesk.accounts.services import find_token

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <secret>`; only the secret's digest is stored.

    The one place token scopes and expiry are enforced: GET and HEAD need "read",
    every other method "write". A token with "clinical" counts as the second factor
    the access rules ask of clinical content; any other token does not.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Agent | None:
        if not token:
            return None
        found = find_token(token)
        if found is None:
            return None
        _check(found, request.method or "GET")
        agent = found.agent
        is_verified = found.has_scope(Scope.CLINICAL)
        agent.is_verified = lambda: is_verified  # type: ignore[attr-defined]
        return agent


def _check(token: ApiToken, method: str) -> None:
    if token.has_expired and token.expires_at is not None:
        raise HttpError(
            401,
            f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: "
            "issue a new one at /account/tokens/.",
        )
    needed = Scope.READ if method.upper() in READ_METHODS else Scope.WRITE
    if not token.has_scope(needed):
        raise HttpError(
            403,
            f"This API token lacks the '{needed}' scope that {method.upper()} needs "
            f"(it has: {', '.join(token.scope_list)}).",
        )


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
