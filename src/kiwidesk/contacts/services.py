"""Verbs for contacts: find the person behind an address, or create them."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from kiwidesk.contacts.models import Contact, Identity, IdentityKind, Organisation

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidIdentityError(ValueError):
    """An address that cannot identify anyone (not an email, not an E.164 number)."""


def normalise_identity(kind: str, value: str) -> str:
    """Return the canonical form of an address, or raise InvalidIdentityError."""
    value = value.strip()
    if kind == IdentityKind.EMAIL:
        local, _, domain = value.rpartition("@")
        if not local or not domain or " " in value:
            raise InvalidIdentityError(f"{value!r} is not an email address")
        return f"{local}@{domain.lower()}".lower()
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        digits = "+" + re.sub(r"\D", "", value) if value.startswith("+") else value
        if not _E164.match(digits):
            raise InvalidIdentityError(f"{value!r} is not an E.164 phone number")
        return digits
    raise InvalidIdentityError(f"unknown identity kind {kind!r}")


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
