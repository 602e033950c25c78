"""Everything Kiwidesk holds about one contact, as one JSON document.

Attachments travel inside the document, base64-encoded, so the export is one file a
data subject can keep. Cases where the contact is the customer come whole; on cases
where they are only a party (a third party's thread on someone else's case), only
their own threads, messages and events.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone

from kiwidesk.cases.models import Attachment, Call, Case, Event, Message, Thread
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.erasure import contact_scope
from kiwidesk.privacy.registry import registered

FORMAT = "kiwidesk.contact-export/1"


def export_contact(contact: Contact) -> dict[str, Any]:
    """Build the export document of `contact` (see docs/retention.md for its shape)."""
    scope = contact_scope(contact)
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "contact": _contact(contact),
        "cases": [_case(case, contact, scope.thread_ids) for case in _cases(contact)],
    }
    for hooks in registered().values():
        if hooks.export is not None:
            document.update(hooks.export(scope))
    return document


def _cases(contact: Contact) -> Iterable[Case]:
    messages = Message.objects.select_related("author_agent", "call").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    return (
        Case.objects.filter(Q(customer=contact) | Q(threads__contact=contact))
        .distinct()
        .order_by("created_at", "pk")
        .prefetch_related(
            "tags",
            Prefetch("threads", queryset=Thread.objects.order_by("created_at", "pk")),
            Prefetch("messages", queryset=messages.order_by("created_at", "pk")),
            Prefetch("events", queryset=Event.objects.order_by("created_at", "pk")),
        )
    )


def _contact(contact: Contact) -> dict[str, Any]:
    organisation = contact.organisation
    return {
        "id": contact.pk,
        "name": contact.name,
        "notes": contact.notes,
        "is_third_party": contact.is_third_party,
        "created_at": contact.created_at.isoformat(),
        "identities": [
            {"kind": identity.kind, "value": identity.value, "is_primary": identity.is_primary}
            for identity in contact.identities.order_by("kind", "value")
        ],
        "organisation": None
        if organisation is None
        else {
            "id": organisation.pk,
            "name": organisation.name,
            "kind": organisation.kind,
            "tier": organisation.tier,
            "category": organisation.category,
            "domain": organisation.domain,
        },
    }


def _case(case: Case, contact: Contact, their_threads: frozenset[int]) -> dict[str, Any]:
    is_customer = case.customer_id == contact.pk

    def theirs(thread_id: int | None) -> bool:
        return is_customer or thread_id in their_threads

    return {
        "id": case.pk,
        "role": "customer" if is_customer else "party",
        "subject": case.subject if is_customer else None,
        "status": case.status,
        "priority": case.priority,
        "category": case.category,
        "tags": sorted(tag.name for tag in case.tags.all()),
        "sensitivity": case.sensitivity,
        "channel": case.channel,
        "created_at": case.created_at.isoformat(),
        "solved_at": _time(case.solved_at),
        "closed_at": _time(case.closed_at),
        "threads": [_thread(thread) for thread in case.threads.all() if theirs(thread.pk)],
        "messages": [_message(m) for m in case.messages.all() if theirs(m.thread_id)],
        "events": [_event(event) for event in case.events.all() if theirs(event.thread_id)],
    }


def _thread(thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.pk,
        "party": thread.party,
        "channel": thread.channel,
        "subject": thread.subject,
        "created_at": thread.created_at.isoformat(),
    }


def _message(message: Message) -> dict[str, Any]:
    call: Call | None = getattr(message, "call", None)
    return {
        "id": message.pk,
        "thread_id": message.thread_id,
        "direction": message.direction,
        "author": _author(message),
        "created_at": message.created_at.isoformat(),
        "body_text": message.body_text,
        "body_html": message.body_html,
        "full_text": message.full_text,
        "sensitivity": message.sensitivity,
        "delivery_status": message.delivery_status,
        "attachments": [_attachment(attachment) for attachment in message.attachments.all()],
        "call": None if call is None else _call(call),
    }


def _author(message: Message) -> str:
    if message.author_agent is not None:
        return f"agent: {message.author_agent.name or 'Support'}"
    if message.author_contact_id is not None:
        return "contact"
    return "system"


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "content_base64": _content(attachment),
    }


def _content(attachment: Attachment) -> str | None:
    if not attachment.file:
        return None
    try:
        with attachment.file.open("rb") as stored:
            return base64.b64encode(stored.read()).decode("ascii")
    except FileNotFoundError:
        return None


def _call(call: Call) -> dict[str, Any]:
    return {
        "from_number": call.from_number,
        "to_number": call.to_number,
        "started_at": call.started_at.isoformat(),
        "duration_seconds": call.duration_seconds,
        "outcome": call.outcome,
        "transcript": call.transcript,
        "recording_attachment_id": call.recording_id,
    }


def _event(event: Event) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "created_at": event.created_at.isoformat(),
        "thread_id": event.thread_id,
        "message_id": event.message_id,
        "payload": event.payload,
    }


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None
