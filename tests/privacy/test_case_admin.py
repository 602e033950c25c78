"""The admin passes the same gate: listed by clearance, opened with an audit record,
and never showing what customers wrote."""

from __future__ import annotations

import pytest

from kiwidesk.accounts.models import Clearance, Role, Team
from kiwidesk.cases.models import Sensitivity
from kiwidesk.privacy.audit import verify_chain
from kiwidesk.privacy.models import AuditRecord
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

PHONE = "+44 20 7946 0958"


@pytest.fixture
def engineer(client):
    engineer = AgentFactory(
        role=Role.ENGINEER, clearance=Clearance.NORMAL, is_staff=True, is_superuser=True
    )
    client.force_login(engineer)
    return engineer


@pytest.mark.django_db(databases="__all__")
def test_the_admin_lists_only_cases_within_clearance(client, engineer):
    make_case(subject="Printer jammed")
    make_case(subject="Therapy notes missing", sensitivity=Sensitivity.CONFIDENTIAL)

    listing = client.get("/admin/cases/case/").content.decode()

    assert "Printer jammed" in listing
    assert "Therapy notes missing" not in listing


@pytest.mark.django_db(databases="__all__")
def test_opening_a_case_above_clearance_in_the_admin_is_refused_and_audited(client, engineer):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    response = client.get(f"/admin/cases/case/{case.pk}/change/")

    assert response.status_code == 302  # "does not exist", as for a missing case
    assert "froze again" not in response.content.decode()


@pytest.mark.django_db(databases="__all__")
def test_a_message_in_the_admin_shows_masked_text_and_no_body_field(client, engineer):
    case = make_case(message_text=f"Call me on {PHONE}")
    message = case.messages.get()

    page = client.get(f"/admin/cases/message/{message.pk}/change/").content.decode()

    assert "Call me on [phone number]" in page
    assert PHONE not in page
    assert 'name="body_text"' not in page
    assert AuditRecord.objects.filter(
        action="case.view", object_id=str(case.pk), actor=engineer
    ).exists()


@pytest.mark.django_db(databases="__all__")
def test_a_change_in_the_admin_is_in_the_audit_chain(client, engineer):
    response = client.post(
        "/admin/accounts/team/add/", {"name": "Night shift", "slug": "night-shift", "email": ""}
    )

    team = Team.objects.get(slug="night-shift")
    assert response.status_code == 302
    record = AuditRecord.objects.get(action="admin.add")
    assert (record.object_type, record.object_id, record.actor) == ("team", str(team.pk), engineer)
    assert verify_chain().is_intact
