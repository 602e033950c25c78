"""Issuing tokens: the scopes and lifetimes the service accepts, and the CLI in front of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kiwidesk.accounts.models import Scope
from kiwidesk.accounts.services import TokenRefusedError, agent_for_token, issue_token
from kiwidesk.cli import main
from tests.accounts.authenticator import enrol

pytestmark = pytest.mark.django_db


def test_an_unknown_scope_is_refused_by_name(agent) -> None:
    with pytest.raises(TokenRefusedError, match="Unknown scope admin"):
        issue_token(agent, scopes=["read", "admin"])


def test_a_token_needs_at_least_one_scope(agent) -> None:
    with pytest.raises(TokenRefusedError, match="at least one scope"):
        issue_token(agent, scopes=[])


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_a_lifetime_outside_one_day_to_ten_years_is_refused(agent, days: int) -> None:
    with pytest.raises(TokenRefusedError, match="from 1 to 3650 days"):
        issue_token(agent, days=days)


def test_a_clinical_scope_needs_a_cleared_agent_with_an_app(agent, clinical_agent) -> None:
    with pytest.raises(TokenRefusedError, match="cleared for clinical"):
        issue_token(agent, scopes=[Scope.CLINICAL])
    with pytest.raises(TokenRefusedError, match="two-factor"):
        issue_token(clinical_agent, scopes=[Scope.CLINICAL])

    enrol(clinical_agent)

    assert issue_token(clinical_agent, scopes=[Scope.CLINICAL, Scope.READ]).token.scopes == (
        "read clinical"
    )


def test_an_expired_token_no_longer_authenticates(agent) -> None:
    secret = issue_token(agent, days=1).secret

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert agent_for_token(secret) is None

    assert agent_for_token(secret) == agent


def test_the_cli_issues_scoped_tokens_with_a_lifetime(agent, capsys) -> None:
    code = main(["token", agent.email, "--scope", "read", "--days", "7"])

    captured = capsys.readouterr()
    secret = captured.out.strip()
    token = agent.api_tokens.get()
    assert code == 0
    assert "read; expires" in captured.err
    assert agent_for_token(secret) == agent
    assert token.scopes == "read"
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == timedelta(days=7)


def test_the_cli_refuses_a_clinical_token_in_one_line(agent, capsys) -> None:
    code = main(["token", agent.email, "--scope", "clinical"])

    assert code != 0
    assert "Only an agent cleared for clinical content" in capsys.readouterr().err
    assert not agent.api_tokens.exists()


def test_the_upgrade_gives_tokens_without_expiry_one_more_year(agent) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("kiwidesk.accounts.migrations.0004_token_scopes_and_expiry")
    old = issue_token(agent, days=None).token
    dated = issue_token(agent, days=30).token

    migration.expire_existing_tokens_in_a_year(apps, None)

    old.refresh_from_db()
    assert old.scopes == "read write"
    assert old.expires_at is not None
    assert old.expires_at - timezone.now() > timedelta(days=364)
    assert type(dated).objects.get(pk=dated.pk).expires_at == dated.expires_at
