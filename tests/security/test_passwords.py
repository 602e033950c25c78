"""Passwords are hashed with Argon2; older hashes still work and are upgraded at login."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import create_agent
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db

# tests/conftest.py swaps in a fast hasher for every other test; these need the real list.
PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


@pytest.fixture(autouse=True)
def production_hashers(settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_the_settings_hash_new_passwords_with_argon2_first() -> None:
    from kiwidesk import settings as kiwidesk_settings

    assert kiwidesk_settings.PASSWORD_HASHERS == PRODUCTION_HASHERS
    assert django_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_a_new_agent_s_password_is_stored_as_argon2() -> None:
    agent = create_agent("new@kiwidesk.test", password=PASSWORD)

    assert agent.password.startswith("argon2$argon2id$")


def test_an_old_pbkdf2_password_still_logs_in_and_is_rehashed_with_argon2(
    client: Client, agent: Agent
) -> None:
    Agent.objects.filter(pk=agent.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )

    response = client.post("/login/", {"username": agent.email, "password": PASSWORD})

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.password.startswith("argon2$")
