"""Logging in with an authenticator app, setting one up, and removing it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kiwidesk.accounts.models import Agent, ApiToken
from kiwidesk.accounts.services import issue_token
from tests.accounts.authenticator import clinical_token, code_for, enrol, verify_session
from tests.factories.accounts import PASSWORD
from tests.factories.cases import make_case

pytestmark = pytest.mark.django_db


def log_in(client: Client, agent: Agent, next_url: str = "/") -> object:
    return client.post("/login/", {"username": agent.email, "password": PASSWORD, "next": next_url})


def test_an_agent_without_an_app_logs_in_with_the_password_alone(client: Client, agent) -> None:
    response = log_in(client, agent)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_password_alone_does_not_log_in_an_agent_with_an_app(client: Client, agent) -> None:
    enrol(agent)

    response = log_in(client, agent, "/cases/new/")

    assert response.status_code == 302
    assert response["Location"] == "/account/verify/?next=%2Fcases%2Fnew%2F"
    assert client.get("/").status_code == 302  # still not logged in
    page = client.get(response["Location"])
    assert "Enter your code" in page.content.decode()


def test_the_right_code_finishes_the_login_verified(client: Client, clinical_agent) -> None:
    device = enrol(clinical_agent)
    log_in(client, clinical_agent, "/cases/new/")

    response = client.post("/account/verify/", {"code": code_for(device), "next": "/cases/new/"})

    assert response.status_code == 302
    assert response["Location"] == "/cases/new/"
    page = client.get("/")
    assert page.status_code == 200
    assert page.wsgi_request.user.is_verified()
    assert "second-factor-prompt" not in page.content.decode()


def test_a_wrong_code_is_refused_and_the_next_try_must_wait(client: Client, agent) -> None:
    device = enrol(agent)
    log_in(client, agent)

    wrong_code = "111111" if code_for(device) == "000000" else "000000"
    wrong = client.post("/account/verify/", {"code": wrong_code})
    right_too_soon = client.post("/account/verify/", {"code": code_for(device)})

    assert "That code is not right" in wrong.content.decode()
    assert "Too many wrong codes: wait 1 s" in right_too_soon.content.decode()
    assert client.get("/").status_code == 302


def test_a_code_that_is_not_six_digits_says_so(client: Client, agent) -> None:
    enrol(agent)
    log_in(client, agent)

    response = client.post("/account/verify/", {"code": "12ab"})

    assert response.status_code == 200
    assert "Type the 6 digits your authenticator app shows." in response.content.decode()


def test_the_code_must_follow_the_password_within_five_minutes(client: Client, agent) -> None:
    device = enrol(agent)
    log_in(client, agent)

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post("/account/verify/", {"code": code_for(device)})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_verify_never_redirects_to_another_site(client: Client, agent) -> None:
    device = enrol(agent)
    log_in(client, agent)

    response = client.post(
        "/account/verify/", {"code": code_for(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_enrolling_shows_a_qr_code_and_the_key_and_needs_a_code(client: Client, agent) -> None:
    client.force_login(agent)

    page = client.get("/account/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=agent)
    refused = client.post("/account/two-factor/", {"code": "12345x"})

    assert "<svg" in page
    assert 'class="segno"' in page
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page)
    assert secret is not None
    assert len(secret.group(1).replace(" ", "")) == 32
    assert not device.confirmed
    assert refused.status_code == 200
    assert not TOTPDevice.objects.get(user=agent).confirmed

    confirmed = client.post("/account/two-factor/", {"code": code_for(device)})

    assert confirmed.status_code == 302
    assert TOTPDevice.objects.get(user=agent).confirmed
    assert client.get("/").wsgi_request.user.is_verified()


def test_removing_the_app_needs_a_current_code_and_revokes_clinical_tokens(
    client: Client, clinical_agent
) -> None:
    secret = clinical_token(clinical_agent)
    plain = issue_token(clinical_agent)
    device = TOTPDevice.objects.get(user=clinical_agent)
    client.force_login(clinical_agent)

    kept = client.post("/account/two-factor/", {"code": "99999"})

    assert kept.status_code == 200
    assert TOTPDevice.objects.filter(user=clinical_agent).exists()

    removed = client.post("/account/two-factor/", {"code": code_for(device)})

    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=clinical_agent).exists()
    clinical = ApiToken.objects.get(prefix=secret[:9])
    assert clinical.revoked_at is not None
    assert ApiToken.objects.get(pk=plain.token.pk).revoked_at is None


def test_a_clinical_agent_without_an_app_is_asked_to_set_one_up(
    client: Client, clinical_agent
) -> None:
    client.force_login(clinical_agent)

    page = client.get("/").content.decode()

    assert "Clinical cases open only with two-factor authentication" in page
    assert 'href="/account/two-factor/"' in page


def test_a_clinical_agent_with_an_unverified_session_is_asked_for_a_code(
    client: Client, clinical_agent
) -> None:
    enrol(clinical_agent)
    client.force_login(clinical_agent)

    page = client.get("/").content.decode()

    assert "Clinical cases open only after you enter a code" in page


def test_an_agent_without_clinical_clearance_sees_no_prompt(client: Client, agent) -> None:
    client.force_login(agent)

    assert "second-factor-prompt" not in client.get("/").content.decode()


def test_verify_without_an_app_leads_to_setting_one_up(client: Client, agent) -> None:
    client.force_login(agent)

    response = client.get("/account/verify/")

    assert response["Location"] == "/account/two-factor/"


def test_verify_without_a_login_leads_to_the_login_page(client: Client) -> None:
    response = client.get("/account/verify/?next=/cases/1/")

    assert response["Location"] == "/login/?next=%2Fcases%2F1%2F"


def test_clinical_cases_open_only_in_a_verified_session(client: Client, clinical_agent) -> None:
    subject = "Session notes screen is blank"
    case = make_case(clinical_agent, subject=subject, sensitivity="clinical")
    client.force_login(clinical_agent)

    unverified = client.get(f"/cases/{case.pk}/")
    verify_session(client, clinical_agent)
    verified = client.get(f"/cases/{case.pk}/")

    assert unverified.status_code == 302
    assert unverified["Location"] == f"/account/verify/?next=%2Fcases%2F{case.pk}%2F"
    assert verified.status_code == 200
    assert subject in verified.content.decode()


def test_the_admin_site_logs_in_through_the_two_step_login(client: Client, admin_agent) -> None:
    device = enrol(admin_agent)

    to_login = client.get("/admin/login/?next=/admin/accounts/agent/")
    log_in(client, admin_agent, "/admin/accounts/agent/")
    before_code = client.get("/admin/accounts/agent/")
    client.post("/account/verify/", {"code": code_for(device)})
    after_code = client.get("/admin/accounts/agent/")

    assert to_login["Location"] == "/login/?next=/admin/accounts/agent/"
    assert before_code.status_code == 302
    assert after_code.status_code == 200


def test_an_agent_who_may_not_use_the_admin_site_is_told_so(client: Client, agent) -> None:
    client.force_login(agent)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
