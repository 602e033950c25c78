"""A data subject's rights: the audited verbs to export or erase a contact.

Who may is decided in `privacy.access.access_subject`, with every other access
decision. An export carries all of the subject's content whatever the administrator's
clearance: it is the subject's right, and the audit record says how many sensitive
cases went out.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Sensitivity
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import find_contact
from kiwidesk.privacy import audit
from kiwidesk.privacy.access import SubjectNotFoundError, SubjectPurpose, access_subject
from kiwidesk.privacy.erasure import ErasureSummary, erase_contact
from kiwidesk.privacy.export import export_contact
from kiwidesk.privacy.models import AuditOutcome


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
