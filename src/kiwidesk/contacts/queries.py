"""Reads of contacts shared by the web UI and the API."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from kiwidesk.contacts.models import Contact, Identity


def contacts_with_identities() -> QuerySet[Contact]:
    return Contact.objects.select_related("organisation").prefetch_related("identities")


def search_contacts(text: str) -> QuerySet[Contact]:
    """Contacts whose name or any address contains `text` (all of them when it is empty)."""
    contacts = contacts_with_identities()
    text = text.strip()
    if not text:
        return contacts
    # An Exists subquery rather than a join, so a contact with two matching
    # addresses is listed once without a DISTINCT over the whole result.
    by_address = Identity.objects.filter(contact=OuterRef("pk"), value__icontains=text)
    return contacts.filter(Q(name__icontains=text) | Exists(by_address))
