"""Administrators read and export the audit log in the web UI; nobody else may."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.factories.accounts import AgentFactory

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(client: Client, admin_agent: Agent) -> Client:
    client.force_login(admin_agent)
    return client


@pytest.fixture
def views(agent: Agent, teammate: Agent) -> list[AuditRecord]:
    return [
        audit.record(agent, "case.view", "case", 31, AuditOutcome.GRANTED, at=MONDAY),
        audit.record(teammate, "case.view", "case", 32, AuditOutcome.DENIED, "needs", MONDAY),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client: Client, db: None):
    response = client.get("/audit/")

    assert (response.status_code, response.url.split("?")[0]) == (302, "/login/")


def test_an_agent_is_refused(client: Client, agent: Agent):
    client.force_login(agent)

    response = client.get("/audit/")

    assert response.status_code == 403


def test_a_lead_is_refused_the_export(client: Client, db: None):
    client.force_login(AgentFactory(email="lead@kiwidesk.test", role="lead"))

    response = client.get("/audit/export/")

    assert response.status_code == 403


def test_an_admin_sees_who_opened_which_case(admin_client: Client, views: list[AuditRecord]):
    response = admin_client.get("/audit/", {"object_type": "case"})

    assert response.status_code == 200
    assert [(r.sequence, r.actor_label, r.object_id) for r in response.context["records"]] == [
        (2, "teammate@kiwidesk.test", "32"),
        (1, "agent@kiwidesk.test", "31"),
    ]
    assert "teammate@kiwidesk.test" in response.text


def test_the_page_filters_by_actor(admin_client: Client, views: list[AuditRecord]):
    response = admin_client.get("/audit/", {"actor": "agent@kiwidesk.test"})

    assert [r.sequence for r in response.context["records"]] == [1]


def test_a_range_ending_before_it_starts_shows_the_message(
    admin_client: Client, views: list[AuditRecord]
):
    response = admin_client.get("/audit/", {"since": "2026-11-17", "until": "2026-11-16"})

    assert (response.status_code, response.context["records"]) == (200, [])
    assert "The range ends before it starts." in response.text


def test_opening_the_page_is_recorded(admin_client: Client, admin_agent: Agent, db: None):
    admin_client.get("/audit/", {"object_type": "case"})

    record = AuditRecord.objects.get()
    assert (record.actor, record.action, record.outcome, record.reason) == (
        admin_agent,
        "audit.view",
        "granted",
        "object_type=case",
    )


def test_the_export_is_the_filtered_log_as_json_lines(
    admin_client: Client, views: list[AuditRecord]
):
    response = admin_client.get("/audit/export/", {"outcome": "ignored", "object_id": "32"})

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "sequence": 2,
            "created_at": "2026-11-16T10:00:00.000000+00:00",
            "actor_id": views[1].actor_id,
            "actor": "teammate@kiwidesk.test",
            "action": "case.view",
            "object_type": "case",
            "object_id": "32",
            "outcome": "denied",
            "reason": "needs",
            "digest": views[1].digest,
        }
    ]


def test_the_next_page_link_carries_the_filters(
    admin_client: Client, agent: Agent, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("kiwidesk.web.views.audit.PAGE_SIZE", 1)
    for case_id in (1, 2):
        audit.record(agent, "case.view", "case", case_id, AuditOutcome.GRANTED)

    response = admin_client.get("/audit/", {"action": "case.view"})

    assert response.context["next"] == "action=case.view&before=2"


def test_the_log_still_opens_after_an_agent_in_it_is_deleted(
    admin_client: Client, views: list[AuditRecord], agent: Agent
):
    agent.delete()

    page = admin_client.get("/audit/", {"object_type": "case"})
    django_admin = admin_client.get("/admin/privacy/auditrecord/")

    assert (page.status_code, django_admin.status_code) == (200, 200)
    assert "agent@kiwidesk.test" in django_admin.text


def test_only_admins_see_the_audit_log_in_the_navigation(client, admin_agent, agent):
    client.force_login(admin_agent)
    assert 'id="audit-link"' in client.get("/").text

    client.force_login(agent)
    assert 'id="audit-link"' not in client.get("/").text
