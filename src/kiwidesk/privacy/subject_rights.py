"""A data subject's rights: who may export or erase a contact, and the audited verbs.

Only active administrators may, through the web UI or the API; the command line acts
as the operator (no agent), who already holds the database. Every attempt is audited
with the contact's id and never their name or address. An export carries all of the
subject's content whatever the administrator's clearance: it is the subject's right,
and the audit record says how many sensitive cases went out.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kiwidesk.accounts.models import Agent, Role
from kiwidesk.cases.models import Sensitivity
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import find_contact
from kiwidesk.privacy import audit
from kiwidesk.privacy.erasure import ErasureSummary, erase_contact
from kiwidesk.privacy.export import export_contact
from kiwidesk.privacy.models import AuditOutcome


class SubjectPurpose:
    EXPORT = "contact.export"
    ERASE = "contact.erase"


class SubjectRightsForbiddenError(PermissionError):
    """Only administrators may export or erase a contact."""


class SubjectNotFoundError(LookupError):
    """No contact with that id or address."""


def access_subject(agent: Agent | None, contact_id: int, purpose: str) -> Contact:
    """Return the contact if `agent` (None: the operator's command line) may act on it.

    The role is checked before the contact is looked up, so a refused agent learns
    nothing about which ids exist.
    """
    if agent is not None and not may_exercise_rights(agent):
        audit.record(agent, purpose, "contact", contact_id, AuditOutcome.DENIED, "not an admin")
        raise SubjectRightsForbiddenError("Only administrators may export or erase a contact.")
    contact = Contact.objects.select_related("organisation").filter(pk=contact_id).first()
    if contact is None:
        raise SubjectNotFoundError(f"No contact #{contact_id}.")
    return contact


def contact_by_email(email: str) -> Contact:
    """The contact who owns `email`; InvalidIdentityError or SubjectNotFoundError."""
    contact = find_contact(IdentityKind.EMAIL, email)
    if contact is None:
        raise SubjectNotFoundError(f"No contact has the address {email.strip()}.")
    return contact


def export_subject(agent: Agent | None, contact_id: int) -> dict[str, Any]:
    """The export document of contact `contact_id`, audited."""
    contact = access_subject(agent, contact_id, SubjectPurpose.EXPORT)
    document = export_contact(contact)
    audit.record(
        agent,
        SubjectPurpose.EXPORT,
        "contact",
        contact.pk,
        AuditOutcome.GRANTED,
        _sensitive_note(document),
    )
    return document


def erase_subject(agent: Agent | None, contact_id: int) -> ErasureSummary:
    """Erase contact `contact_id`; the audit record commits with the erasure."""
    contact = access_subject(agent, contact_id, SubjectPurpose.ERASE)
    with transaction.atomic():
        summary = erase_contact(contact)
        audit.record(
            agent,
            SubjectPurpose.ERASE,
            "contact",
            contact.pk,
            AuditOutcome.GRANTED,
            summary.describe(),
        )
    return summary


def _sensitive_note(document: dict[str, Any]) -> str:
    cases = document["cases"]
    levels = [case["sensitivity"] for case in cases]
    clinical = levels.count(Sensitivity.CLINICAL)
    confidential = levels.count(Sensitivity.CONFIDENTIAL)
    note = f"cases={len(cases)}"
    if clinical or confidential:
        note += (
            f" including clinical={clinical} confidential={confidential}"
            " (the subject's own content, exported regardless of clearance)"
        )
    return note


def may_exercise_rights(agent: Agent) -> bool:
    """Whether to offer the export and erase actions (`access_subject` still decides)."""
    return agent.is_active and agent.role == Role.ADMIN
