"""Turn the ids and addresses a request names into rows, or a 422 that says which is unknown."""

from __future__ import annotations

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.api.errors import UnknownReferenceError
from kiwidesk.api.schemas import CustomerIn, PartyIn
from kiwidesk.cases.models import Channel
from kiwidesk.contacts.models import Contact, IdentityKind, Organisation
from kiwidesk.contacts.services import find_or_create_contact, normalise_identity


def agent_or_none(agent_id: int | None) -> Agent | None:
    if agent_id is None:
        return None
    found = Agent.objects.filter(pk=agent_id, is_active=True).first()
    if found is None:
        raise UnknownReferenceError(f"There is no active agent with id {agent_id}.")
    return found


def team_or_none(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    found = Team.objects.filter(pk=team_id).first()
    if found is None:
        raise UnknownReferenceError(f"There is no team with id {team_id}.")
    return found


def organisation_or_none(organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    found = Organisation.objects.filter(pk=organisation_id).first()
    if found is None:
        raise UnknownReferenceError(f"There is no organisation with id {organisation_id}.")
    return found


def contact(contact_id: int) -> Contact:
    found = Contact.objects.filter(pk=contact_id).first()
    if found is None:
        raise UnknownReferenceError(f"There is no contact with id {contact_id}.")
    return found


def customer(given: CustomerIn) -> Contact:
    """The contact a new case is for: by id, else found or created by their first address.

    Every address given is checked first, so a bad phone number is refused even
    when the email beside it is fine.
    """
    if given.id is not None:
        return contact(given.id)
    addresses = [(kind, normalise_identity(kind, value)) for kind, value in given.addresses()]
    kind, value = addresses[0]
    return find_or_create_contact(kind, value, name=given.name)


def party(given: PartyIn) -> Contact:
    """A third party by address, created on first contact."""
    kind, value = (
        (IdentityKind.EMAIL, given.email) if given.email else (IdentityKind.PHONE, given.phone)
    )
    normalise_identity(kind, value or "")
    return find_or_create_contact(kind, value or "", name=given.name, is_third_party=True)


_CHANNEL_FOR_IDENTITY: dict[str, str] = {
    IdentityKind.EMAIL: Channel.EMAIL,
    IdentityKind.PHONE: Channel.PHONE,
    IdentityKind.WHATSAPP: Channel.WHATSAPP,
}


def channel_for(party_contact: Contact) -> str:
    """How to reach a contact when the request does not say: their primary address's channel."""
    identity = party_contact.identities.order_by("-is_primary", "id").first()
    if identity is None:
        return str(Channel.EMAIL)
    return str(_CHANNEL_FOR_IDENTITY.get(identity.kind, Channel.EMAIL))
