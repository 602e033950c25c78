"""Verbs for agents, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kiwidesk.accounts.models import Agent, ApiToken, Clearance, Role, Scope

TOKEN_PREFIX = "kd_"  # noqa: S105 - a public marker, not a secret
DEFAULT_SCOPES = (Scope.READ, Scope.WRITE)
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650


class TokenRefusedError(ValueError):
    """The token asked for cannot be issued: unknown scope, bad lifetime, or no clearance."""


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


def has_second_factor(agent: Agent) -> bool:
    """Whether the agent has confirmed an authenticator app (a TOTP device)."""
    return bool(TOTPDevice.objects.devices_for_user(agent, confirmed=True).exists())


def issue_token(
    agent: Agent,
    *,
    name: str = "API token",
    scopes: Iterable[str] = DEFAULT_SCOPES,
    days: int | None = DEFAULT_TOKEN_DAYS,
) -> IssuedToken:
    """Issue a token that expires after `days` (None: never, for the operator's own tools)."""
    scope_list = _checked_scopes(agent, scopes)
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenRefusedError(f"A token lasts from 1 to {MAX_TOKEN_DAYS} days, not {days}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        agent=agent,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=digest_token(secret),
        created_at=now,
        scopes=" ".join(scope_list),
        expires_at=now + timedelta(days=days) if days is not None else None,
    )
    return IssuedToken(token=token, secret=secret)


def _checked_scopes(agent: Agent, scopes: Iterable[str]) -> list[str]:
    requested = set(scopes)
    unknown = requested - set(Scope.values)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TokenRefusedError(f"Unknown scope {names}: choose from read, write, clinical.")
    if not requested:
        raise TokenRefusedError("Choose at least one scope: read, write or clinical.")
    if Scope.CLINICAL in requested:
        if agent.clearance != Clearance.CLINICAL:
            raise TokenRefusedError("Only an agent cleared for clinical content gets that scope.")
        if not has_second_factor(agent):
            raise TokenRefusedError(
                "Set up two-factor authentication before issuing a clinical token."
            )
    return [scope for scope in Scope.values if scope in requested]


def find_token(secret: str) -> ApiToken | None:
    """The unrevoked token of an active agent with this secret, expired or not."""
    token = (
        ApiToken.objects.select_related("agent")
        .filter(digest=digest_token(secret), revoked_at__isnull=True, agent__is_active=True)
        .first()
    )
    if token is None or token.has_expired:
        return token
    now = timezone.now()
    # Touch last_used_at at most once a minute so reads do not turn into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def agent_for_token(secret: str) -> Agent | None:
    """Return the active agent that owns this unexpired bearer secret, or None."""
    token = find_token(secret)
    if token is None or token.has_expired:
        return None
    return token.agent


def tokens_of(agent: Agent) -> list[ApiToken]:
    """The agent's tokens, newest first, revoked ones included (the page shows why)."""
    return list(ApiToken.objects.filter(agent=agent))


def revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
