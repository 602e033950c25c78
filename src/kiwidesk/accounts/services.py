"""Verbs for agents, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kiwidesk.accounts.models import Agent, ApiToken, Clearance, Role

TOKEN_PREFIX = "kd_"  # noqa: S105 - a public marker, not a secret


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its digest is kept


def digest_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_agent(
    email: str,
    *,
    name: str = "",
    password: str | None = None,
    is_admin: bool = False,
    clearance: str = Clearance.NORMAL,
) -> Agent:
    """Create an agent; an admin may also use the admin site and open clinical content."""
    if is_admin:
        return Agent.objects.create_superuser(email, password, name=name or email)
    return Agent.objects.create_user(
        email, password, name=name or email, role=Role.AGENT, clearance=clearance
    )


def issue_token(agent: Agent, *, name: str = "API token") -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        agent=agent, name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], digest=digest_token(secret)
    )
    return IssuedToken(token=token, secret=secret)


def agent_for_token(secret: str) -> Agent | None:
    """Return the active agent that owns this bearer secret, or None."""
    token = (
        ApiToken.objects.select_related("agent")
        .filter(digest=digest_token(secret), revoked_at__isnull=True, agent__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute so reads do not turn into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.agent


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
