"""Repeated failed logins lock the email out from that address for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from kiwidesk.accounts.services import issue_token
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client: Client, email: str, password: str, address: str = "203.0.113.7") -> object:
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def fail_five_times(client: Client, email: str) -> None:
    """Four failures show the usual error; the fifth already answers with the lockout."""
    for _ in range(4):
        assert attempt(client, email, "wrong-password").status_code == 200
    assert attempt(client, email, "wrong-password").status_code == 429


def test_five_failures_lock_the_login_with_a_clear_message(client: Client, agent) -> None:
    fail_five_times(client, agent.email)

    response = attempt(client, agent.email, PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins for this email from your network" in page
    assert "Try again in 15 minutes" in page
    assert client.get("/").status_code == 302


def test_the_correct_password_works_again_after_the_cool_off(client: Client, agent) -> None:
    fail_five_times(client, agent.email)

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = attempt(client, agent.email, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_lockout_is_for_that_email_from_that_address_only(
    client: Client, agent, teammate
) -> None:
    fail_five_times(client, agent.email)

    other_agent = attempt(Client(), teammate.email, PASSWORD)
    other_address = attempt(Client(), agent.email, PASSWORD, address="198.51.100.9")

    assert other_agent.status_code == 302
    assert other_address.status_code == 302


def test_four_failures_then_the_right_password_logs_in(client: Client, agent) -> None:
    for _ in range(4):
        attempt(client, agent.email, "wrong-password")

    assert attempt(client, agent.email, PASSWORD).status_code == 302


def test_a_locked_out_agent_still_reaches_the_api_with_a_token(client: Client, agent) -> None:
    secret = issue_token(agent).secret
    fail_five_times(client, agent.email)

    response = client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200


def test_behind_a_proxy_the_forwarded_address_is_the_one_counted(
    client: Client, agent, settings
) -> None:
    settings.KIWIDESK_CLIENT_IP_HEADERS = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

    def through_proxy(visitor: str, password: str) -> object:
        return client.post(
            "/login/",
            {"username": agent.email, "password": password},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.1, {visitor}",
        )

    for _ in range(5):
        through_proxy("203.0.113.7", "wrong-password")

    assert through_proxy("203.0.113.7", PASSWORD).status_code == 429
    assert through_proxy("198.51.100.9", PASSWORD).status_code == 302
