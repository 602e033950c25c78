from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import issue_token
from kiwidesk.cases.models import Case
from kiwidesk.contacts.models import Contact, Organisation
from kiwidesk.privacy.models import AuditOutcome, AuditRecord, RetentionPolicy
from tests.api.conftest import ApiClient
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(client: Client, admin_agent: Agent) -> ApiClient:
    return ApiClient(client, issue_token(admin_agent).secret)


@pytest.fixture
def callers(client: Client, agent: Agent, admin_agent: Agent) -> dict[str, ApiClient]:
    lead = AgentFactory(email="lead@kiwidesk.test", role="lead")
    return {
        "anonymous": ApiClient(client, None),
        "customer": ApiClient(client, "kd_a-customer-has-no-agent-token"),
        "agent": ApiClient(client, issue_token(agent).secret),
        "lead": ApiClient(client, issue_token(lead).secret),
        "admin": ApiClient(client, issue_token(admin_agent).secret),
    }


@pytest.fixture
def subject_case(agent: Agent, customer: Contact) -> Case:
    return make_case(agent, customer=customer, subject="Private matter")


@pytest.mark.parametrize(
    ("caller", "status"),
    [("anonymous", 401), ("customer", 401), ("agent", 403), ("lead", 403), ("admin", 200)],
)
def test_only_an_admin_exports_a_contact(
    callers: dict[str, ApiClient], subject_case: Case, caller: str, status: int
) -> None:
    response = callers[caller].get(f"/privacy/contacts/{subject_case.customer_id}/export")

    assert response.status_code == status


def test_the_export_downloads_as_a_json_file(admin_api: ApiClient, subject_case: Case) -> None:
    response = admin_api.get(f"/privacy/contacts/{subject_case.customer_id}/export")

    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{subject_case.customer_id}.json"'
    )
    assert response.json()["cases"][0]["subject"] == "Private matter"


@pytest.mark.parametrize(
    ("caller", "status", "subject"),
    [
        ("anonymous", 401, "Private matter"),
        ("customer", 401, "Private matter"),
        ("agent", 403, "Private matter"),
        ("lead", 403, "Private matter"),
        ("admin", 200, "[erased]"),
    ],
)
def test_only_an_admin_erases_a_contact(
    callers: dict[str, ApiClient], subject_case: Case, caller: str, status: int, subject: str
) -> None:
    response = callers[caller].post(
        f"/privacy/contacts/{subject_case.customer_id}/erase", {"confirm": True}
    )

    assert response.status_code == status
    subject_case.refresh_from_db()
    assert subject_case.subject == subject


def test_a_refused_erasure_is_audited(callers: dict[str, ApiClient], subject_case: Case) -> None:
    callers["agent"].post(f"/privacy/contacts/{subject_case.customer_id}/erase", {"confirm": True})

    record = AuditRecord.objects.get(action="contact.erase")
    assert (record.outcome, record.object_id) == (
        AuditOutcome.DENIED,
        str(subject_case.customer_id),
    )


def test_an_erasure_answers_what_it_changed(admin_api: ApiClient, subject_case: Case) -> None:
    response = admin_api.post(
        f"/privacy/contacts/{subject_case.customer_id}/erase", {"confirm": True}
    )

    body = response.json()
    assert (body["contact_id"], body["cases"], body["messages"]) == (
        subject_case.customer_id,
        1,
        1,
    )


def test_an_erasure_without_confirmation_is_refused(
    admin_api: ApiClient, subject_case: Case
) -> None:
    response = admin_api.post(
        f"/privacy/contacts/{subject_case.customer_id}/erase", {"confirm": False}
    )

    assert response.status_code == 422
    assert "confirm" in response.json()["detail"]
    subject_case.refresh_from_db()
    assert subject_case.subject == "Private matter"


def test_erasing_a_missing_contact_is_a_404(admin_api: ApiClient) -> None:
    response = admin_api.post("/privacy/contacts/999/erase", {"confirm": True})

    assert (response.status_code, response.json()) == (404, {"detail": "No contact #999."})


def test_an_admin_creates_lists_updates_and_deletes_a_retention_policy(
    admin_api: ApiClient, client: Client
) -> None:
    organisation = Organisation.objects.create(name="Harbourside Clinic")
    created = admin_api.post(
        "/privacy/retention-policies",
        {
            "sensitivity": "clinical",
            "organisation_id": organisation.pk,
            "action": "delete",
            "after_days": 365,
        },
    )
    policy_id = created.json()["id"]

    listed = admin_api.get("/privacy/retention-policies")
    updated = client.put(
        f"/api/v1/privacy/retention-policies/{policy_id}",
        {"sensitivity": "clinical", "action": "anonymise", "after_days": 30},
        content_type="application/json",
        headers=admin_api.headers,
    )
    deleted = client.delete(
        f"/api/v1/privacy/retention-policies/{policy_id}", headers=admin_api.headers
    )

    assert created.status_code == 201
    assert [p["id"] for p in listed.json()] == [policy_id]
    assert (updated.status_code, updated.json()["action"], updated.json()["organisation_id"]) == (
        200,
        "anonymise",
        None,
    )
    assert deleted.status_code == 204
    assert not RetentionPolicy.objects.exists()
    assert list(
        AuditRecord.objects.filter(object_type="retention_policy")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["retention.policy.create", "retention.policy.update", "retention.policy.delete"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sensitivity": "secret", "action": "delete", "after_days": 5}, "sensitivity must be"),
        ({"sensitivity": "normal", "action": "shred", "after_days": 5}, "action must be"),
        (
            {"sensitivity": "normal", "action": "delete", "after_days": 5, "organisation_id": 999},
            "No organisation #999",
        ),
    ],
)
def test_an_invalid_retention_policy_is_a_422_naming_the_problem(
    admin_api: ApiClient, body: dict[str, object], message: str
) -> None:
    response = admin_api.post("/privacy/retention-policies", body)

    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert not RetentionPolicy.objects.exists()


def test_a_second_policy_for_the_same_level_and_organisation_is_refused(
    admin_api: ApiClient,
) -> None:
    body = {"sensitivity": "normal", "action": "delete", "after_days": 5}
    admin_api.post("/privacy/retention-policies", body)

    response = admin_api.post("/privacy/retention-policies", body)

    assert response.status_code == 422
    assert "already exists" in response.json()["detail"]
    assert RetentionPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("caller", "status"),
    [("anonymous", 401), ("customer", 401), ("agent", 403), ("lead", 403), ("admin", 200)],
)
def test_only_an_admin_reads_retention_policies(
    callers: dict[str, ApiClient], caller: str, status: int
) -> None:
    response = callers[caller].get("/privacy/retention-policies")

    assert response.status_code == status
