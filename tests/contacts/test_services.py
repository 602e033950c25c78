from __future__ import annotations

import pytest

from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import (
    InvalidIdentityError,
    find_or_create_contact,
    normalise_identity,
)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (IdentityKind.EMAIL, " Clinician@Example.ORG ", "clinician@example.org"),
        (IdentityKind.PHONE, "+44 20 7946 0958", "+442079460958"),
        (IdentityKind.WHATSAPP, "+1 (268) 555-0101", "+12685550101"),
    ],
)
def test_addresses_are_stored_in_one_canonical_form(kind, raw, expected):
    assert normalise_identity(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [(IdentityKind.EMAIL, "not-an-address"), (IdentityKind.PHONE, "020 7946 0958"), ("fax", "1")],
)
def test_unusable_addresses_are_refused(kind, raw):
    with pytest.raises(InvalidIdentityError):
        normalise_identity(kind, raw)


@pytest.mark.django_db
def test_the_same_address_finds_the_same_contact():
    first = find_or_create_contact(IdentityKind.EMAIL, "vip@example.org", name="A VIP")

    again = find_or_create_contact(IdentityKind.EMAIL, "VIP@example.org")

    assert again == first
    assert Contact.objects.count() == 1
    assert first.name == "A VIP"


@pytest.mark.django_db
def test_new_contact_with_several_addresses_is_found_by_each():
    from kiwidesk.contacts.services import add_contact, find_contact

    contact = add_contact(
        [(IdentityKind.EMAIL, "assistant@example.org"), (IdentityKind.WHATSAPP, "+12685550101")],
        name="VIP assistant",
    )

    assert find_contact(IdentityKind.WHATSAPP, "+1 268 555 0101") == contact
    assert find_contact(IdentityKind.EMAIL, "assistant@example.org") == contact


@pytest.mark.django_db
def test_a_taken_second_address_leaves_no_half_made_contact():
    from kiwidesk.contacts.services import IdentityTakenError, add_contact

    taken = find_or_create_contact(IdentityKind.PHONE, "+442079460958")

    with pytest.raises(IdentityTakenError) as refused:
        add_contact(
            [(IdentityKind.EMAIL, "new@example.org"), (IdentityKind.PHONE, "+44 20 7946 0958")]
        )

    assert refused.value.owner == taken
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_search_finds_contacts_by_name_or_address():
    from kiwidesk.contacts.queries import search_contacts

    by_name = find_or_create_contact(IdentityKind.EMAIL, "a@example.org", name="Harbour Hotel")
    by_address = find_or_create_contact(IdentityKind.EMAIL, "harbour@example.net", name="Desk")
    find_or_create_contact(IdentityKind.EMAIL, "other@example.org", name="Someone else")

    assert set(search_contacts("harbour")) == {by_name, by_address}
