"""API tokens: scopes decide what a token may do, expiry when it stops; agents manage their own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from kiwidesk.accounts.models import ApiToken, Scope
from kiwidesk.accounts.services import issue_token
from kiwidesk.cases.models import Message
from tests.accounts.authenticator import clinical_token, code_for, enrol
from tests.factories.cases import make_case

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_read_only_token_reads_but_cannot_write(client: Client, agent) -> None:
    case = make_case(agent)
    secret = issue_token(agent, scopes=[Scope.READ]).secret

    read = client.get(f"/api/v1/cases/{case.pk}", headers=bearer(secret))
    write = client.post(
        f"/api/v1/cases/{case.pk}/notes",
        {"text": "A note"},
        content_type="application/json",
        headers=bearer(secret),
    )

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json() == {
        "detail": "This API token lacks the 'write' scope that POST needs (it has: read)."
    }
    assert Message.objects.filter(case=case).count() == 1


def test_a_write_only_token_cannot_read(client: Client, agent) -> None:
    secret = issue_token(agent, scopes=[Scope.WRITE]).secret

    response = client.get("/api/v1/cases", headers=bearer(secret))

    assert response.status_code == 403
    assert "lacks the 'read' scope that GET needs" in response.json()["detail"]


def test_an_expired_token_answers_401_saying_so(client: Client, agent) -> None:
    secret = issue_token(agent, days=1).secret

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        response = client.get("/api/v1/cases", headers=bearer(secret))

    assert response.status_code == 401
    assert response.json()["detail"].startswith("This API token expired on ")
    assert "/account/tokens/" in response.json()["detail"]


def test_a_new_token_expires_after_ninety_days_by_default(agent) -> None:
    token = issue_token(agent).token

    assert token.scopes == "read write"
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == timedelta(days=90)


def test_a_clinical_token_opens_clinical_cases_as_a_second_factor(
    client: Client, clinical_agent
) -> None:
    case = make_case(clinical_agent, sensitivity="clinical")
    plain = issue_token(clinical_agent).secret
    clinical = clinical_token(clinical_agent)

    without = client.get(f"/api/v1/cases/{case.pk}", headers=bearer(plain))
    with_scope = client.get(f"/api/v1/cases/{case.pk}", headers=bearer(clinical))

    assert without.status_code != 200
    assert with_scope.status_code == 200


def test_the_tokens_page_shows_a_new_secret_once_and_it_works(client: Client, agent) -> None:
    client.force_login(agent)

    created = client.post(
        "/account/tokens/", {"name": "Reporting", "scopes": ["read"], "days": "30"}
    )
    secret = re.search(r'<code id="new-token-secret">(kd_[^<]+)</code>', created.content.decode())
    later = client.get("/account/tokens/").content.decode()

    assert secret is not None
    assert client.get("/api/v1/cases", headers=bearer(secret.group(1))).status_code == 200
    assert secret.group(1) not in later
    assert "Reporting" in later
    assert "read" in later
    token = ApiToken.objects.get(agent=agent)
    assert token.expires_at is not None
    assert (token.expires_at - token.created_at).days == 30


def test_an_agent_revokes_their_own_token_but_not_another_s(
    client: Client, agent, teammate
) -> None:
    own = issue_token(agent)
    theirs = issue_token(teammate)
    client.force_login(agent)

    refused = client.post(f"/account/tokens/{theirs.token.pk}/revoke/")
    revoked = client.post(f"/account/tokens/{own.token.pk}/revoke/")

    assert refused.status_code == 404
    assert revoked.status_code == 302
    script = Client()  # no session cookie to fall back on
    assert script.get("/api/v1/cases", headers=bearer(own.secret)).status_code == 401
    assert script.get("/api/v1/cases", headers=bearer(theirs.secret)).status_code == 200


def test_a_clinical_token_needs_clearance_an_app_and_a_verified_session(
    client: Client, agent, clinical_agent
) -> None:
    wanted = {"name": "Clinical export", "scopes": ["read", "clinical"], "days": "7"}
    client.force_login(agent)
    uncleared = client.post("/account/tokens/", wanted)

    client.force_login(clinical_agent)
    no_app = client.post("/account/tokens/", wanted)
    device = enrol(clinical_agent)
    unverified = client.post("/account/tokens/", wanted)
    client.post("/account/verify/", {"code": code_for(device)})
    verified = client.post("/account/tokens/", wanted)

    assert uncleared.status_code == 400
    assert "Only an agent cleared for clinical content" in uncleared.content.decode()
    assert no_app.status_code == 400
    assert "Set up two-factor authentication before" in no_app.content.decode()
    assert unverified.status_code == 400
    assert "Verify your second factor" in unverified.content.decode()
    assert verified.status_code == 200
    assert ApiToken.objects.get().scopes == "read clinical"


def test_bad_token_form_input_is_a_400_with_the_reason(client: Client, agent) -> None:
    client.force_login(agent)

    response = client.post("/account/tokens/", {"name": "x", "scopes": ["admin"], "days": "0"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "greater than or equal to 1" in page
    assert not ApiToken.objects.exists()
