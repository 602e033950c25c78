"""Contacts: the people and third parties cases are about, with their addresses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from kiwidesk.api import lookups
from kiwidesk.api.auth import current_agent
from kiwidesk.api.errors import ConflictError, ContactNotFoundError
from kiwidesk.api.pagination import page
from kiwidesk.api.schemas import ERRORS, ContactIn, ContactListQuery, ContactOut, ContactPage
from kiwidesk.contacts.models import Contact
from kiwidesk.contacts.queries import contacts_with_identities, search_contacts
from kiwidesk.contacts.services import IdentityTakenError, add_contact

router = Router(tags=["contacts"])


@router.get("", response={200: ContactPage, **ERRORS}, summary="Search contacts")
def list_contacts(request: HttpRequest, query: Query[ContactListQuery]) -> dict[str, Any]:
    """Contacts whose name or any address contains `q`, by name."""
    current_agent(request)
    ordered = search_contacts(query.q).order_by("name", "pk")
    return page(request, ordered, limit=query.limit, offset=query.offset)


@router.get("/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Read a contact")
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    current_agent(request)
    contact = contacts_with_identities().filter(pk=contact_id).first()
    if contact is None:
        raise ContactNotFoundError(contact_id)
    return contact


@router.post("", response={201: ContactOut, **ERRORS}, summary="Add a contact")
def create_contact(request: HttpRequest, body: ContactIn) -> Status[Contact]:
    """Add a contact with one or more addresses; an address already known is a 409."""
    current_agent(request)
    organisation = lookups.organisation_or_none(body.organisation_id)
    try:
        contact = add_contact(
            list(body.addresses()),
            name=body.name,
            organisation=organisation,
            is_third_party=body.is_third_party,
        )
    except IdentityTakenError as exc:
        raise ConflictError(str(exc)) from None
    return Status(201, contacts_with_identities().get(pk=contact.pk))
