"""Searching, reading and adding contacts through the API."""

from __future__ import annotations

from typing import Any

import pytest

from kiwidesk.contacts.models import Contact, Tier
from tests.api.conftest import ApiClient
from tests.factories.contacts import ContactFactory, IdentityFactory, OrganisationFactory


def test_contacts_are_searched_by_name_or_any_address(api: ApiClient) -> None:
    by_name = ContactFactory(name="Harbour View Restaurant")
    by_address = ContactFactory(name="Reservations desk")
    IdentityFactory(contact=by_address, kind="phone", value="+12685550199")
    IdentityFactory(contact=by_address, kind="whatsapp", value="+12685550199")
    ContactFactory(name="Someone else")

    found = api.get("/contacts", q="harbour")
    by_phone = api.get("/contacts", q="+1268555")

    assert [item["id"] for item in found.json()["items"]] == [by_name.pk]
    assert [item["id"] for item in by_phone.json()["items"]] == [by_address.pk]


def test_a_contact_reads_with_identities_and_organisation_tier(api: ApiClient) -> None:
    organisation = OrganisationFactory(name="Island Clinic", tier=Tier.PREMIUM)
    contact = ContactFactory(name="A clinician", organisation=organisation)

    response = api.get(f"/contacts/{contact.pk}")

    body = response.json()
    assert response.status_code == 200
    assert (body["name"], body["tier"]) == ("A clinician", "premium")
    assert body["organisation"] == {
        "id": organisation.pk,
        "name": "Island Clinic",
        "kind": "customer",
        "tier": "premium",
    }
    assert body["identities"] == [
        {"kind": "email", "value": contact.identities.get().value, "is_primary": True}
    ]


def test_adding_a_contact_stores_each_address_normalised(api: ApiClient) -> None:
    organisation = OrganisationFactory(name="Harbour Group")
    body = {
        "name": "Front desk",
        "email": "Desk@Harbour.example",
        "phone": "+64 9 555 0100",
        "organisation_id": organisation.pk,
        "is_third_party": True,
    }

    response = api.post("/contacts", body)

    contact = Contact.objects.get(pk=response.json()["id"])
    assert response.status_code == 201
    assert sorted(contact.identities.values_list("kind", "value")) == [
        ("email", "desk@harbour.example"),
        ("phone", "+6495550100"),
    ]
    assert (contact.organisation, contact.is_third_party) == (organisation, True)


def test_adding_a_contact_needs_an_address(api: ApiClient) -> None:
    response = api.post("/contacts", {"name": "Nobody"})

    assert response.status_code == 422
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("rows", [3, 80])
def test_the_contact_list_costs_the_same_queries_however_many_contacts(
    api: ApiClient, django_assert_max_num_queries: Any, rows: int
) -> None:
    ContactFactory.create_batch(rows)
    api.get("/contacts")  # the first call of a token records when it was used

    with django_assert_max_num_queries(3):
        response = api.get("/contacts", limit=200)

    assert len(response.json()["items"]) == rows
