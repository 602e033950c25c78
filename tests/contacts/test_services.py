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
