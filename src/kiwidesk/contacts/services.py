"""Verbs for contacts: find the person behind an address, or create them."""

from __future__ import annotations

import phonenumbers
from django.db import IntegrityError, transaction

from kiwidesk.contacts.models import Contact, Identity, IdentityKind, Organisation


class InvalidIdentityError(ValueError):
    """An address that cannot identify anyone (not an email, not an E.164 number)."""


class IdentityTakenError(ValueError):
    """The address already belongs to another contact."""

    def __init__(self, kind: str, value: str, owner: Contact) -> None:
        super().__init__(f"The {kind} {value} already belongs to contact {owner.pk}.")
        self.owner = owner


def normalise_identity(kind: str, value: str) -> str:
    """Return the canonical form of an address, or raise InvalidIdentityError."""
    value = value.strip()
    if kind == IdentityKind.EMAIL:
        local, _, domain = value.rpartition("@")
        if not local or not domain or " " in value:
            raise InvalidIdentityError(f"{value!r} is not an email address")
        return f"{local}@{domain.lower()}".lower()
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        return _e164(value)
    raise InvalidIdentityError(f"unknown identity kind {kind!r}")


def _e164(value: str) -> str:
    """Format an international number as E.164; without a leading + there is no country.

    "Possible" (the right length for its country) rather than "valid" (an assigned
    range): a real customer on a range newer than the library's metadata must still
    reach us, and the ranges reserved for fiction are possible but not valid.
    """
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise InvalidIdentityError(f"{value!r} is not an E.164 phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentityError(f"{value!r} is not an E.164 phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_contact(kind: str, value: str) -> Contact | None:
    identity = (
        Identity.objects.select_related("contact")
        .filter(kind=kind, value=normalise_identity(kind, value))
        .first()
    )
    return identity.contact if identity else None


def find_or_create_contact(
    kind: str,
    value: str,
    *,
    name: str = "",
    organisation: Organisation | None = None,
    is_third_party: bool = False,
) -> Contact:
    """Return the contact who owns this address, creating them on first sight.

    Safe against two requests creating the same address at once: the unique
    (kind, value) constraint makes the loser re-read the winner's row.
    """
    normalised = normalise_identity(kind, value)
    existing = find_contact(kind, normalised)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                name=name or normalised, organisation=organisation, is_third_party=is_third_party
            )
            Identity.objects.create(contact=contact, kind=kind, value=normalised, is_primary=True)
            return contact
    except IntegrityError:
        winner = find_contact(kind, normalised)
        if winner is None:
            raise
        return winner


def add_identity(contact: Contact, kind: str, value: str) -> Identity:
    return Identity.objects.create(
        contact=contact, kind=kind, value=normalise_identity(kind, value)
    )


@transaction.atomic
def add_contact(
    addresses: list[tuple[str, str]],
    *,
    name: str = "",
    organisation: Organisation | None = None,
    is_third_party: bool = False,
) -> Contact:
    """Add a new contact with one or more (kind, value) addresses, none of them known yet.

    Every address is checked before anything is written, so a bad or taken second
    address leaves no half-made contact behind.
    """
    if not addresses:
        raise InvalidIdentityError("a contact needs at least one address")
    normalised = [(kind, normalise_identity(kind, value)) for kind, value in addresses]
    for kind, value in normalised:
        owner = find_contact(kind, value)
        if owner is not None:
            raise IdentityTakenError(kind, value, owner)
    (first_kind, first_value), *others = normalised
    contact = find_or_create_contact(
        first_kind, first_value, name=name, organisation=organisation, is_third_party=is_third_party
    )
    for kind, value in others:
        add_identity(contact, kind, value)
    return contact
