from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import issue_token
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.api.conftest import ApiClient
from tests.factories.accounts import AgentFactory

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


@pytest.fixture
def admin_api(client: Client, admin_agent: Agent) -> ApiClient:
    return ApiClient(client, issue_token(admin_agent).secret)


@pytest.fixture
def lead(db: None) -> Agent:
    return AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")


@pytest.fixture
def views(agent: Agent, teammate: Agent) -> list[AuditRecord]:
    return [
        audit.record(agent, "case.view", "case", 1, AuditOutcome.GRANTED, at=MONDAY),
        audit.record(teammate, "case.view", "case", 2, AuditOutcome.GRANTED, at=MONDAY),
        audit.record(agent, "case.reply", "case", 2, AuditOutcome.GRANTED, at=TUESDAY),
    ]


def sequences(response: object) -> list[int]:
    return [item["sequence"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_an_admin_reads_the_log_newest_first(admin_api: ApiClient, views: list[AuditRecord]):
    response = admin_api.get("/audit", object_type="case")

    assert (response.status_code, sequences(response)) == (200, [3, 2, 1])


def test_a_record_shows_who_did_what_and_its_digest(admin_api: ApiClient, views: list[AuditRecord]):
    response = admin_api.get("/audit", object_type="case", limit=1)

    assert response.json()["items"][0] == {
        "sequence": 3,
        "created_at": "2026-11-17T10:00:00Z",
        "actor_id": views[2].actor_id,
        "actor": "agent@kiwidesk.test",
        "action": "case.reply",
        "object_type": "case",
        "object_id": "2",
        "outcome": "granted",
        "reason": "",
        "digest": views[2].digest,
    }


def test_the_log_filters_by_actor(admin_api: ApiClient, views: list[AuditRecord]):
    response = admin_api.get("/audit", actor="teammate@kiwidesk.test")

    assert sequences(response) == [2]


def test_the_log_filters_by_action_and_object(admin_api: ApiClient, views: list[AuditRecord]):
    response = admin_api.get("/audit", action="case.view", object_type="case", object_id="2")

    assert sequences(response) == [2]


def test_the_log_filters_by_date_range(admin_api: ApiClient, views: list[AuditRecord]):
    response = admin_api.get("/audit", since="2026-11-17", until="2026-11-17", object_type="case")

    assert sequences(response) == [3]


def test_a_range_ending_before_it_starts_is_refused(admin_api: ApiClient, views: list[AuditRecord]):
    response = admin_api.get("/audit", since="2026-11-18", until="2026-11-17")

    assert (response.status_code, response.json()) == (422, {"detail": "since is after until."})


def test_pages_follow_each_other_by_sequence(admin_api: ApiClient, views: list[AuditRecord]):
    first = admin_api.get("/audit", object_type="case", limit=2)
    second = admin_api.get(
        "/audit", object_type="case", limit=2, before=first.json()["next_before"]
    )

    assert (sequences(first), sequences(second), second.json()["next_before"]) == (
        [3, 2],
        [1],
        None,
    )


def test_reading_the_log_is_recorded(
    admin_api: ApiClient, admin_agent: Agent, views: list[AuditRecord]
):
    admin_api.get("/audit", action="case.view")

    record = AuditRecord.objects.get(sequence=4)
    assert (record.actor, record.action, record.object_type, record.outcome, record.reason) == (
        admin_agent,
        "audit.view",
        "audit_log",
        "granted",
        "action=case.view",
    )


def test_an_agent_is_refused_and_the_refusal_recorded(api: ApiClient, agent: Agent):
    response = api.get("/audit")

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Only administrators may read the audit log."},
    )
    assert list(AuditRecord.objects.values_list("actor", "action", "outcome")) == [
        (agent.pk, "audit.view", "denied")
    ]


def test_a_lead_is_refused(client: Client, lead: Agent):
    response = ApiClient(client, issue_token(lead).secret).get("/audit/export")

    assert response.status_code == 403


def test_the_export_streams_the_filtered_log_as_json_lines(
    admin_api: ApiClient, views: list[AuditRecord]
):
    response = admin_api.get("/audit/export", object_type="case", object_id="2")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert (response["Content-Type"], [json.loads(line)["sequence"] for line in lines]) == (
        "application/jsonl",
        [2, 3],
    )


def test_exporting_the_log_is_recorded(admin_api: ApiClient, views: list[AuditRecord]):
    admin_api.get("/audit/export", actor="agent@kiwidesk.test")

    assert AuditRecord.objects.filter(action="audit.export", outcome="granted").count() == 1


def test_a_page_limit_over_the_maximum_is_refused(admin_api: ApiClient):
    response = admin_api.get("/audit", limit=501)

    assert response.status_code == 422
