"""Administrators export and erase a contact and manage retention on the web; nobody else may."""

from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case
from kiwidesk.contacts.models import Contact, Organisation
from kiwidesk.privacy.models import AuditOutcome, AuditRecord, RetentionPolicy
from tests.factories.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, admin_agent: Agent) -> Client:
    client.force_login(admin_agent)
    return client


@pytest.fixture
def subject_case(agent: Agent, customer: Contact) -> Case:
    return make_case(agent, customer=customer, subject="Private matter")


def test_an_admin_sees_export_and_erase_on_the_contact_page(
    admin_client: Client, subject_case: Case
) -> None:
    response = admin_client.get(f"/contacts/{subject_case.customer_id}/")

    assert b'id="contact-export"' in response.content
    assert b'id="contact-erase"' in response.content


def test_an_agent_does_not_see_the_actions(agent_client: Client, subject_case: Case) -> None:
    response = agent_client.get(f"/contacts/{subject_case.customer_id}/")

    assert response.status_code == 200
    assert b"contact-privacy-actions" not in response.content


def test_the_export_downloads_the_contacts_json(admin_client: Client, subject_case: Case) -> None:
    response = admin_client.get(f"/privacy/contacts/{subject_case.customer_id}/export/")

    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{subject_case.customer_id}.json"'
    )
    assert response.json()["cases"][0]["subject"] == "Private matter"


def test_an_agent_may_not_export(agent_client: Client, subject_case: Case) -> None:
    response = agent_client.get(f"/privacy/contacts/{subject_case.customer_id}/export/")

    assert response.status_code == 403
    assert b"Only administrators" in response.content
    assert AuditRecord.objects.get(action="contact.export").outcome == AuditOutcome.DENIED


def test_erasing_needs_the_typed_confirmation(admin_client: Client, subject_case: Case) -> None:
    response = admin_client.post(
        f"/privacy/contacts/{subject_case.customer_id}/erase/", {"confirmation": "erase"}
    )

    assert response.status_code == 400
    assert b"Type ERASE in capitals" in response.content
    subject_case.refresh_from_db()
    assert subject_case.subject == "Private matter"


def test_a_confirmed_erasure_shows_a_clear_page_without_their_details(
    admin_client: Client, subject_case: Case
) -> None:
    response = admin_client.post(
        f"/privacy/contacts/{subject_case.customer_id}/erase/", {"confirmation": "ERASE"}
    )

    assert response.status_code == 200
    assert f"Contact #{subject_case.customer_id} erased".encode() in response.content
    assert b"Customer Example" not in response.content
    subject_case.refresh_from_db()
    assert subject_case.subject == "[erased]"


def test_an_agent_may_not_erase(agent_client: Client, subject_case: Case) -> None:
    response = agent_client.post(
        f"/privacy/contacts/{subject_case.customer_id}/erase/", {"confirmation": "ERASE"}
    )

    assert response.status_code == 403
    subject_case.refresh_from_db()
    assert subject_case.subject == "Private matter"
    assert AuditRecord.objects.get(action="contact.erase").outcome == AuditOutcome.DENIED


def test_erasing_a_missing_contact_is_a_404(admin_client: Client) -> None:
    response = admin_client.get("/privacy/contacts/999/erase/")

    assert response.status_code == 404


def test_an_admin_adds_edits_and_deletes_a_retention_policy(admin_client: Client) -> None:
    clinic = Organisation.objects.create(name="Harbourside Clinic")

    admin_client.post(
        "/privacy/retention/",
        {"sensitivity": "clinical", "organisation": clinic.pk, "action": "delete",
         "after_days": "365", "is_active": "on"},
    )  # fmt: skip
    policy = RetentionPolicy.objects.get()
    admin_client.post(
        f"/privacy/retention/{policy.pk}/",
        {"sensitivity": "clinical", "organisation": clinic.pk, "action": "anonymise",
         "after_days": "90"},
    )  # fmt: skip
    policy.refresh_from_db()
    listed = admin_client.get("/privacy/retention/")
    admin_client.post(f"/privacy/retention/{policy.pk}/delete/")

    assert (policy.action, policy.after_days, policy.is_active) == ("anonymise", 90, False)
    assert b"Harbourside Clinic" in listed.content
    assert not RetentionPolicy.objects.exists()


def test_a_bad_retention_policy_shows_the_problem(admin_client: Client) -> None:
    response = admin_client.post(
        "/privacy/retention/", {"sensitivity": "normal", "action": "delete", "after_days": "0"}
    )

    assert response.status_code == 400
    assert b"greater than or equal to 1" in response.content
    assert not RetentionPolicy.objects.exists()


def test_a_duplicate_retention_policy_is_refused_with_a_reason(admin_client: Client) -> None:
    RetentionPolicy.objects.create(sensitivity="normal", action="delete", after_days=5)

    response = admin_client.post(
        "/privacy/retention/", {"sensitivity": "normal", "action": "anonymise", "after_days": "9"}
    )

    assert response.status_code == 400
    assert b"already exists" in response.content
    assert RetentionPolicy.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "lead", "qa", "engineer"])
def test_only_admins_open_the_retention_page(client: Client, agent: Agent, role: str) -> None:
    Agent.objects.filter(pk=agent.pk).update(role=role)
    client.force_login(agent)

    response = client.get("/privacy/retention/")

    assert response.status_code == 403
    denied = AuditRecord.objects.get(action="retention.policy.view")
    assert denied.outcome == AuditOutcome.DENIED


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/privacy/retention/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]
