"""Sessions end when idle and after a cap; every response carries the security headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client: Client, agent, settings) -> Client:
    settings.SESSION_COOKIE_AGE = 30 * 60
    settings.KIWIDESK_SESSION_MAX_HOURS = 12
    response = client.post("/login/", {"username": agent.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_session_left_idle_for_half_an_hour_ends(logged_in: Client) -> None:
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = logged_in.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_session_in_use_stays_open_past_the_idle_timeout(logged_in: Client) -> None:
    start = timezone.now()
    for minutes in (20, 40, 60):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert logged_in.get("/").status_code == 200


def test_a_busy_session_still_ends_after_twelve_hours(logged_in: Client) -> None:
    start = timezone.now()
    for minutes in range(25, 12 * 60, 25):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert logged_in.get("/account/tokens/").status_code == 200

    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        response = logged_in.get("/account/tokens/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_pages_carry_the_content_security_policy_and_security_headers(client: Client) -> None:
    response = client.get("/login/")

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "SameSite=Lax" in str(response.cookies["csrftoken"])


def test_only_the_chat_demo_page_may_style_inline(client: Client, settings) -> None:
    settings.KIWIDESK_CHAT_DEMO = True

    demo = client.get("/channels/chat/demo/")["Content-Security-Policy"]
    docs = client.get("/api/docs")["Content-Security-Policy"]

    assert "style-src 'self' 'unsafe-inline'" in demo
    assert "script-src 'self';" in demo + ";"
    assert "unsafe-inline" not in docs


def test_no_login_page_holds_an_inline_script(client: Client) -> None:
    page = client.get("/login/").content.decode()

    assert "<script>" not in page
    assert " onclick=" not in page
    assert " style=" not in page


SETTINGS_PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: getattr(settings, k) for k in ("
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
    "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_AGE')}))"
)


def settings_with(tmp_path, **env: str) -> dict[str, object]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kiwidesk.settings",
        "KIWIDESK_DATA_DIR": str(tmp_path),
        **env,
    }
    environment.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", SETTINGS_PROBE],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secure_cookies_turn_on_https_redirect_and_hsts(tmp_path) -> None:
    secure = settings_with(tmp_path, KIWIDESK_SECURE_COOKIES="true")
    plain = settings_with(tmp_path, KIWIDESK_SECURE_COOKIES="false")

    assert secure == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SESSION_COOKIE_AGE": 1800,
    }
    assert (plain["SECURE_SSL_REDIRECT"], plain["SECURE_HSTS_SECONDS"]) == (False, 0)


def test_the_idle_timeout_comes_from_the_environment(tmp_path) -> None:
    configured = settings_with(tmp_path, KIWIDESK_SESSION_IDLE_MINUTES="10")

    assert configured["SESSION_COOKIE_AGE"] == 600
