from __future__ import annotations

import pytest

from kiwidesk.cases.models import Case, Channel, Direction, Status
from kiwidesk.contacts.models import Identity


def new_case_post(**fields: str) -> dict[str, str]:
    data = {
        "email": "",
        "phone": "",
        "name": "",
        "subject": "Change of session time",
        "text": "Called to move Thursday's session.",
        "channel": Channel.PHONE,
        "priority": "normal",
        "team": "",
        "assignee": "",
    }
    data.update(fields)
    return data


@pytest.mark.django_db
def test_new_case_form_defaults_to_the_phone_channel(agent_client):
    response = agent_client.get("/cases/new/")

    assert response.status_code == 200
    assert b'<option value="phone" selected>Phone</option>' in response.content


@pytest.mark.django_db
def test_new_case_for_a_new_caller_creates_contact_and_case(agent_client, agent):
    response = agent_client.post(
        "/cases/new/",
        new_case_post(phone="+44 7700 900123", name="Caller", assignee=str(agent.pk)),
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert (case.customer.name, case.channel, case.assignee, case.status) == (
        "Caller",
        Channel.PHONE,
        agent,
        Status.OPEN,
    )
    assert case.customer.identities.get().value == "+447700900123"
    assert case.messages.get().direction == Direction.INBOUND


@pytest.mark.django_db
def test_new_case_for_a_known_email_reuses_the_contact(agent_client, customer):
    address = customer.identities.get().value

    agent_client.post("/cases/new/", new_case_post(email=address.upper()))

    assert Case.objects.get().customer == customer


@pytest.mark.django_db
def test_new_case_needs_an_email_or_a_phone(agent_client):
    response = agent_client.post("/cases/new/", new_case_post(name="Nameless"))

    assert response.status_code == 400
    assert b"Give the customer&#x27;s email or phone number." in response.content
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_new_case_with_a_bad_phone_creates_nothing(agent_client):
    response = agent_client.post("/cases/new/", new_case_post(phone="call me"))

    assert response.status_code == 400
    assert Case.objects.count() == 0
    assert Identity.objects.count() == 0


@pytest.mark.django_db
def test_new_case_needs_a_subject(agent_client):
    response = agent_client.post("/cases/new/", new_case_post(email="a@example.org", subject=""))

    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert Case.objects.count() == 0
