"""The browser session as a second way in, and the published OpenAPI description."""

from __future__ import annotations

from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import issue_token, revoke_token
from kiwidesk.cases.models import Case, Message

CSRF_TOKEN = "k" * 32


def test_a_logged_in_agent_reads_cases_with_the_session(agent: Agent, case: Case) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)

    response = browser.get(f"/api/v1/cases/{case.pk}")

    assert response.status_code == 200
    assert response.json()["id"] == case.pk


def test_a_session_write_without_the_csrf_token_is_refused(agent: Agent, case: Case) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)

    response = browser.post(
        f"/api/v1/cases/{case.pk}/notes", {"text": "Note"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check failed: send the X-CSRFToken header"}
    assert Message.objects.filter(case=case).count() == 1


def test_a_session_write_with_the_csrf_token_is_accepted(agent: Agent, case: Case) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    browser.cookies["csrftoken"] = CSRF_TOKEN

    response = browser.post(
        f"/api/v1/cases/{case.pk}/notes",
        {"text": "Note"},
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_TOKEN},
    )

    assert response.status_code == 201
    assert Message.objects.filter(case=case).count() == 2


def test_a_revoked_token_is_a_401(client: Client, agent: Agent, case: Case) -> None:
    issued = issue_token(agent)
    revoke_token(issued.token)

    response = client.get(f"/api/v1/cases/{case.pk}", HTTP_AUTHORIZATION=f"Bearer {issued.secret}")

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication required: send 'Authorization: Bearer <token>'."
    }


def test_an_anonymous_write_is_a_401_not_a_csrf_error(client: Client, case: Case) -> None:
    response = client.post(
        f"/api/v1/cases/{case.pk}/notes", {"text": "Note"}, content_type="application/json"
    )

    assert response.status_code == 401


def test_the_openapi_description_lists_every_path(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")

    spec = response.json()
    assert response.status_code == 200
    assert spec["openapi"].startswith("3.")
    assert sorted(spec["paths"]) == [
        "/api/v1/audit",
        "/api/v1/audit/export",
        "/api/v1/calls/{call_id}/recording",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/break-glass",
        "/api/v1/cases/{case_id}/calls",
        "/api/v1/cases/{case_id}/clocks",
        "/api/v1/cases/{case_id}/events",
        "/api/v1/cases/{case_id}/merge",
        "/api/v1/cases/{case_id}/messages",
        "/api/v1/cases/{case_id}/messages/{message_id}/original",
        "/api/v1/cases/{case_id}/messages/{message_id}/sensitivity",
        "/api/v1/cases/{case_id}/notes",
        "/api/v1/cases/{case_id}/threads",
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/privacy/contacts/{contact_id}/erase",
        "/api/v1/privacy/contacts/{contact_id}/export",
        "/api/v1/privacy/retention-policies",
        "/api/v1/privacy/retention-policies/{policy_id}",
        "/api/v1/sla/calendars",
        "/api/v1/sla/calendars/{calendar_id}",
        "/api/v1/sla/policies",
        "/api/v1/sla/policies/{policy_id}",
        "/api/v1/sla/report",
        "/api/v1/threads/{thread_id}/messages",
        "/api/v1/threads/{thread_id}/whatsapp-template",
        "/api/v1/whatsapp/templates",
    ]
    assert sorted(spec["components"]["securitySchemes"]) == ["SessionAuth", "TokenAuth"]


def test_the_api_docs_page_answers_at_api_docs(client: Client) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert b"/api/v1/openapi.json" in response.content
