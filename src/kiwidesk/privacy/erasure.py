"""Erase a data subject, or the content of cases, from every table and from storage.

Rows stay and their text goes: a Message keeps its direction, times and delivery
status, an Event its kind and time, so the case history, SLA clocks and metrics stay
whole while bodies, subjects, addresses, numbers, transcripts and files are replaced
by `[erased]` or removed. Each erasure runs in one transaction; running it again
rewrites the same markers and finds no more files, so it is harmless.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote, quote_plus

from django.core.files.storage import default_storage
from django.db import router, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from kiwidesk.cases.models import (
    Attachment,
    Call,
    Case,
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    Message,
    OutboxItem,
    Thread,
)
from kiwidesk.contacts.models import Contact, Identity
from kiwidesk.ingest.models import Delivery, QuarantinedMessage, Receipt
from kiwidesk.privacy.registry import ERASED, ErasureScope, registered

CHUNK = 500
# Shorter names ("Jo") match too much unrelated text to be replaced elsewhere.
MIN_MENTION_LENGTH = 5

# Event payload keys that copy text out of a case (subjects, file names, addresses,
# provider errors that quote numbers); ids, statuses and counts stay.
_COPIED_TEXT: dict[str, tuple[str, ...]] = {
    EventKind.SUBJECT_CHANGED: ("old", "new"),
    EventKind.CASE_MERGED: ("source_subject",),
    EventKind.MERGE_SUGGESTED: ("other_subject",),
    EventKind.FOLLOWS_CLOSED_CASE: ("closed_subject",),
    EventKind.ATTACHMENT_REFUSED: ("filename",),
    EventKind.CHAT_ENDED: ("transcript_to",),
    EventKind.DELIVERY_UPDATED: ("error",),
}
# Events on other cases that copy the subject of a case named by id.
_SUBJECT_REFERENCES = (
    (EventKind.CASE_MERGED, "source_id", "source_subject"),
    (EventKind.MERGE_SUGGESTED, "other_case_id", "other_subject"),
    (EventKind.FOLLOWS_CLOSED_CASE, "closed_case_id", "closed_subject"),
)


@dataclass(frozen=True)
class ErasureSummary:
    """How many rows and files one erasure changed (the audit record's reason)."""

    cases: int = 0
    messages: int = 0
    attachments: int = 0
    calls: int = 0
    events: int = 0
    files: int = 0
    raw_payloads: int = 0
    channel_rows: int = 0
    mentions: int = 0

    def describe(self) -> str:
        return " ".join(f"{field.name}={getattr(self, field.name)}" for field in fields(self))

    def __add__(self, other: ErasureSummary) -> ErasureSummary:
        return ErasureSummary(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


# Scopes -------------------------------------------------------------------------------


def contact_scope(contact: Contact) -> ErasureScope:
    """Everything of `contact`: their cases whole, their threads and messages elsewhere."""
    case_ids = set(Case.objects.filter(customer=contact).values_list("pk", flat=True))
    thread_ids = set(Thread.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))
    thread_ids |= set(Thread.objects.filter(contact=contact).values_list("pk", flat=True))
    message_ids = set(
        Message.objects.filter(Q(thread_id__in=thread_ids) | Q(author_contact=contact)).values_list(
            "pk", flat=True
        )
    )
    return ErasureScope(
        contact_id=contact.pk,
        case_ids=frozenset(case_ids),
        thread_ids=frozenset(thread_ids),
        message_ids=frozenset(message_ids),
        values=subject_values(contact),
    )


def cases_scope(case_ids: Iterable[int]) -> ErasureScope:
    """The content of whole cases, their contacts left as they are (retention)."""
    ids = frozenset(case_ids)
    return ErasureScope(
        contact_id=None,
        case_ids=ids,
        thread_ids=frozenset(Thread.objects.filter(case_id__in=ids).values_list("pk", flat=True)),
        message_ids=frozenset(Message.objects.filter(case_id__in=ids).values_list("pk", flat=True)),
    )


def subject_values(contact: Contact) -> tuple[str, ...]:
    """The contact's own identifying values: their addresses and numbers, and their name."""
    values = list(contact.identities.values_list("value", flat=True))
    name = contact.name.strip()
    if len(name) >= MIN_MENTION_LENGTH and name != ERASED and name not in values:
        values.append(name)
    return tuple(values)


# Erasing ------------------------------------------------------------------------------


def erase_contact(contact: Contact) -> ErasureSummary:
    """Erase `contact`'s personal data everywhere Kiwidesk keeps it; return the counts.

    One transaction (the queue database's webhook bodies in a nested one on SQLite,
    where the queue is a separate file).
    """
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        scope = contact_scope(locked)
        summary = erase_scope(scope)
        mentions = sweep_mentions(scope.values)
        Identity.objects.filter(contact=locked).delete()
        Contact.objects.filter(pk=locked.pk).update(name=ERASED, notes="")
        return summary + ErasureSummary(mentions=mentions)


def anonymise_cases(case_ids: Iterable[int]) -> ErasureSummary:
    """Replace the content of the given cases (subjects, bodies, files, numbers)."""
    with transaction.atomic():
        return erase_scope(cases_scope(case_ids))


def erase_scope(scope: ErasureScope) -> ErasureSummary:
    """Erase what `scope` names; the caller holds the transaction."""
    files = _stored_files(scope.message_ids)
    messages = _erase_messages(scope.message_ids)
    attachments = _erase_attachments(scope.message_ids)
    calls = _erase_calls(scope.message_ids)
    _stop_sending(scope.message_ids)
    _forget_senders(scope)
    cases = _erase_subjects(scope)
    events = _erase_event_copies(scope)
    channel_rows = sum(hooks.erase(scope) for hooks in registered().values())
    raw_payloads = _erase_raw_payloads(scope)
    removed = _remove_unreferenced(files)
    return ErasureSummary(
        cases=cases,
        messages=messages,
        attachments=attachments,
        calls=calls,
        events=events,
        files=removed,
        raw_payloads=raw_payloads,
        channel_rows=channel_rows,
    )


def _erase_messages(message_ids: frozenset[int]) -> int:
    return sum(
        Message.objects.filter(pk__in=chunk).update(
            body_text=ERASED, body_html="", full_text="", pii=[], raw_file=""
        )
        for chunk in chunked(message_ids)
    )


def _erase_attachments(message_ids: frozenset[int]) -> int:
    return sum(
        Attachment.objects.filter(message_id__in=chunk).update(
            file="", filename=ERASED, sha256="", content_id="", pii=[]
        )
        for chunk in chunked(message_ids)
    )


def _erase_calls(message_ids: frozenset[int]) -> int:
    """The party's number (from on inbound calls, to on outbound) and the transcript."""
    count = 0
    for chunk in chunked(message_ids):
        calls = Call.objects.filter(message_id__in=chunk)
        calls.filter(message__direction=Direction.INBOUND).update(from_number=ERASED)
        calls.filter(message__direction=Direction.OUTBOUND).update(to_number=ERASED)
        calls.exclude(transcript="").update(transcript=ERASED)
        count += calls.count()
    return count


def _stop_sending(message_ids: frozenset[int]) -> None:
    # An erased reply still in the outbox must not go out as "[erased]".
    for chunk in chunked(message_ids):
        OutboxItem.objects.filter(message_id__in=chunk).delete()
        Message.objects.filter(
            pk__in=chunk,
            delivery_status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING),
        ).update(delivery_status=DeliveryStatus.FAILED)


def _forget_senders(scope: ErasureScope) -> None:
    for chunk in chunked(scope.message_ids):
        Receipt.objects.filter(message_id__in=chunk).update(sender="")
    if scope.values:
        Receipt.objects.filter(sender__in=[value.lower() for value in scope.values]).update(
            sender=""
        )


def _erase_subjects(scope: ErasureScope) -> int:
    for chunk in chunked(scope.thread_ids):
        Thread.objects.filter(pk__in=chunk).exclude(subject="").update(subject=ERASED)
    return sum(
        Case.objects.filter(pk__in=chunk).update(subject=ERASED)
        for chunk in chunked(scope.case_ids)
    )


def _erase_event_copies(scope: ErasureScope) -> int:
    """Scrub copied text from the events of the scope's cases and from events elsewhere
    that copied one of their subjects."""
    changed = 0
    for event in _events_to_scrub(scope):
        payload = _scrubbed(event, scope)
        if payload != event.payload:
            Event.objects.filter(pk=event.pk).update(payload=payload)
            changed += 1
    return changed


def _events_to_scrub(scope: ErasureScope) -> Iterator[Event]:
    for chunk in chunked(scope.case_ids):
        yield from Event.objects.filter(case_id__in=chunk).only("pk", "kind", "payload")
        references = Q()
        for kind, id_key, _ in _SUBJECT_REFERENCES:
            references |= Q(kind=kind, **{f"payload__{id_key}__in": chunk})
        yield from (
            Event.objects.filter(references)
            .exclude(case_id__in=chunk)
            .only("pk", "kind", "payload")
        )
    for chunk in chunked(scope.message_ids):
        yield from (
            Event.objects.filter(message_id__in=chunk)
            .exclude(case_id__in=scope.case_ids)
            .only("pk", "kind", "payload")
        )


def _scrubbed(event: Event, scope: ErasureScope) -> Any:
    payload = dict(event.payload) if isinstance(event.payload, dict) else event.payload
    if not isinstance(payload, dict):
        return payload
    for key in _COPIED_TEXT.get(event.kind, ()):
        if payload.get(key):
            payload[key] = ERASED
    return _without_values(payload, scope.values)


def _without_values(value: Any, values: Sequence[str]) -> Any:
    if isinstance(value, str):
        return replace_values(value, values)
    if isinstance(value, dict):
        return {key: _without_values(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_values(item, values) for item in value]
    return value


def replace_values(text: str, values: Sequence[str]) -> str:
    """`text` with every case-insensitive occurrence of each value replaced by the marker."""
    for value in values:
        if value and value.lower() in text.lower():
            text = re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)
    return text


def sweep_mentions(values: Sequence[str]) -> int:
    """Replace the subject's values where other people's text quotes them.

    Subjects, notes and call numbers of cases that are not theirs (a colleague who
    typed their address into another case). Columns encrypted at rest (message
    bodies, transcripts) cannot be searched in the database and are not swept: the
    subject's own messages are erased whole by `erase_scope`.
    """
    count = 0
    for value in (v for v in values if len(v) >= MIN_MENTION_LENGTH):
        count += _replace_in(Message.objects.all(), ("body_text", "body_html", "full_text"), value)
        count += _replace_in(Call.objects.all(), ("transcript", "from_number", "to_number"), value)
        count += _replace_in(Case.objects.all(), ("subject",), value)
        count += _replace_in(Thread.objects.all(), ("subject",), value)
        count += _replace_in(Contact.objects.all(), ("notes",), value)
    return count


def _replace_in(rows: QuerySet[Any], columns: Sequence[str], value: str) -> int:
    searchable = [
        column
        for column in columns
        if rows.model._meta.get_field(column).get_lookup("icontains") is not None
    ]
    if not searchable:
        return 0
    matching = Q()
    for column in searchable:
        matching |= Q(**{f"{column}__icontains": value})
    count = 0
    for row in rows.filter(matching).only("pk", *searchable):
        changes = {column: replace_values(getattr(row, column), (value,)) for column in searchable}
        type(row).objects.filter(pk=row.pk).update(**changes)
        count += 1
    return count


# Raw payloads and files -----------------------------------------------------------------


def _erase_raw_payloads(scope: ErasureScope) -> int:
    """Delete quarantined and accepted webhook bodies that hold the subject's values."""
    needles = _needles(scope.values)
    deleted = 0
    for chunk in chunked(scope.message_ids):
        deleted += QuarantinedMessage.objects.filter(message_id__in=chunk).delete()[0]
    if not needles:
        return deleted
    deleted += _delete_matching(QuarantinedMessage.objects.all(), needles)
    # Webhook bodies and task results live in the queue database (its own SQLite file).
    with transaction.atomic(using=router.db_for_write(Delivery)):
        deleted += _delete_matching(Delivery.objects.all(), needles)
        deleted += _delete_finished_tasks(scope.values)
    return deleted


def _delete_finished_tasks(values: Sequence[str]) -> int:
    """Finished task results whose return value or traceback quotes the subject.

    Tasks take ids, but a send that failed may have recorded the provider's error,
    which can name the address it refused. Queued tasks are left to run.
    """
    from django_tasks_db.models import DBTaskResult

    quoted = Q()
    for value in values:
        quoted |= Q(traceback__icontains=value) | Q(returned__icontains=value)
    finished = DBTaskResult.objects.filter(finished_at__isnull=False).annotate(
        returned=Cast("return_value", TextField())
    )
    return finished.filter(quoted).delete()[0] if values else 0


def _needles(values: Sequence[str]) -> tuple[bytes, ...]:
    """Each value as it appears in raw bytes: plain, form-encoded, URL- and JSON-escaped."""
    found: set[bytes] = set()
    for value in values:
        for form in (value, quote_plus(value), quote(value), json.dumps(value)[1:-1]):
            found.add(form.lower().encode())
        if value.startswith("+"):
            found.add(value[1:].encode())
    return tuple(sorted(found))


def _delete_matching(rows: QuerySet[Any], needles: tuple[bytes, ...]) -> int:
    matching = [
        row.pk
        for row in rows.only("pk", "raw").iterator(chunk_size=CHUNK)
        if any(needle in bytes(row.raw).lower() for needle in needles)
    ]
    return sum(rows.filter(pk__in=chunk).delete()[0] for chunk in chunked(matching))


def _stored_files(message_ids: frozenset[int]) -> set[str]:
    """The names of the attachment files and raw originals of these messages."""
    names: set[str] = set()
    for chunk in chunked(message_ids):
        attachments = Attachment.objects.filter(message_id__in=chunk).exclude(file="")
        names |= set(attachments.values_list("file", flat=True))
        originals = Message.objects.filter(pk__in=chunk).exclude(raw_file="")
        names |= set(originals.values_list("raw_file", flat=True))
    return names


def _remove_unreferenced(names: set[str]) -> int:
    """Delete stored files no row refers to any more.

    Files are named by their content's hash, so another customer's message may hold
    the same bytes: that file stays. Deleted before the commit: if the commit then
    fails, the rows still name missing files, and running the erasure again ends it.
    """
    removed = 0
    for name in sorted(names):
        if Attachment.objects.filter(file=name).exists():
            continue
        if Message.objects.filter(raw_file=name).exists():
            continue
        if default_storage.exists(name):
            default_storage.delete(name)
            removed += 1
    return removed


def chunked(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for value in sorted(ids):
        batch.append(value)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch
