from __future__ import annotations

import re

import pytest

from kiwidesk.cases.models import Sensitivity
from kiwidesk.contacts.models import Tier
from tests.factories.cases import make_case
from tests.factories.contacts import ContactFactory, IdentityFactory, OrganisationFactory


@pytest.mark.django_db
def test_contact_page_shows_identities_organisation_and_tier(agent_client):
    contact = ContactFactory(
        name="Vip Customer", organisation=OrganisationFactory(name="Harbour Club", tier=Tier.VIP)
    )
    IdentityFactory(contact=contact, kind="phone", value="+447700900123")

    response = agent_client.get(f"/contacts/{contact.pk}/")

    assert response.status_code == 200
    assert b"Phone: +447700900123" in response.content
    assert b'Harbour Club <span class="badge tier-vip">VIP</span>' in response.content


@pytest.mark.django_db
def test_contact_history_lists_only_cases_the_agent_may_see(agent_client, customer):
    first = make_case(customer=customer)
    make_case(customer=customer, sensitivity=Sensitivity.CLINICAL)
    latest = make_case(customer=customer)

    response = agent_client.get(f"/contacts/{customer.pk}/")

    ids = [int(pk) for pk in re.findall(rb'<td class="num">(\d+)</td>', response.content)]
    assert ids == [latest.pk, first.pk]


@pytest.mark.django_db
def test_missing_contact_is_not_found(agent_client):
    response = agent_client.get("/contacts/424242/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_contact_page_needs_a_login(client, customer):
    response = client.get(f"/contacts/{customer.pk}/")

    assert response.status_code == 302
