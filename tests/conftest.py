"""Role fixtures shared by every test: the agent, a teammate, an outsider, an admin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kiwidesk.accounts.models import Agent, Clearance, Team
from kiwidesk.contacts.models import Contact
from tests.factories.accounts import AgentFactory, TeamFactory
from tests.factories.contacts import ContactFactory

IN_CI = os.environ.get("CI", "").lower() == "true"

# Agents are created in nearly every test; PBKDF2 would dominate the run time.
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def require_service(available: bool, message: str) -> None:
    """Skip when a real service is missing on a developer machine; fail in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]


@pytest.fixture
def team(db: None) -> Team:
    return TeamFactory(name="Clinician support", slug="clinician-support")


@pytest.fixture
def other_team(db: None) -> Team:
    return TeamFactory(name="Concierge", slug="concierge")


@pytest.fixture
def agent(team: Team) -> Agent:
    return AgentFactory(email="agent@kiwidesk.test", name="Agent One", teams=[team])


@pytest.fixture
def teammate(team: Team) -> Agent:
    return AgentFactory(email="teammate@kiwidesk.test", name="Agent Two", teams=[team])


@pytest.fixture
def outsider(other_team: Team) -> Agent:
    return AgentFactory(email="outsider@kiwidesk.test", name="Agent Three", teams=[other_team])


@pytest.fixture
def clinical_agent(team: Team) -> Agent:
    return AgentFactory(
        email="cleared@kiwidesk.test",
        name="Cleared Agent",
        clearance=Clearance.CLINICAL,
        teams=[team],
    )


@pytest.fixture
def admin_agent(db: None) -> Agent:
    return AgentFactory(
        email="admin@kiwidesk.test",
        name="Admin",
        is_staff=True,
        is_superuser=True,
        role="admin",
        clearance=Clearance.CLINICAL,
    )


@pytest.fixture
def customer(db: None) -> Contact:
    return ContactFactory(name="Customer Example")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require_service(Path(path).exists(), "Chromium is not installed (apt-get install chromium)")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every database test all the databases: on SQLite the work queue has its own file.

    Tasks and webhook bodies live in the `queue` alias (kiwidesk.dbrouter), and almost
    any action can queue a task, so a test that may touch one database gets both.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = set(getattr(item, "fixturenames", ()))
        transactional = "transactional_db" in fixtures or "live_server" in fixtures
        if marker is not None:
            transactional = transactional or bool(marker.kwargs.get("transaction"))
        elif not fixtures & {"db", "transactional_db", "live_server"}:
            continue
        item.add_marker(
            pytest.mark.django_db(databases="__all__", transaction=transactional), append=False
        )


def pytest_report_header() -> str:
    from django.db import connection

    return f"database: {connection.vendor} ({connection.settings_dict['NAME']})"
