"""Plan a run of emails in memory as `ingest` would store them one by one, then write it.

`batch.ingest_many` cuts its messages into runs; a `Segment` reads what a run needs
with one query per lookup, routes each message over the stored rows and the rows it
has planned so far, and writes everything with one INSERT per table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.db import connection
from django.utils import timezone

from kiwidesk.accounts.models import Team
from kiwidesk.cases.content import (
    attachment_findings,
    clean_filename,
    sanitise_html,
    store_content,
)
from kiwidesk.cases.events import shown
from kiwidesk.cases.models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    Channel,
    Direction,
    Event,
    EventKind,
    Message,
    Party,
    Priority,
    Sensitivity,
    Status,
    Thread,
    new_reply_token,
)
from kiwidesk.cases.services import _status_after_inbound
from kiwidesk.contacts.models import Contact, Identity, IdentityKind
from kiwidesk.ingest import bulk, routing
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.findings import stored_pii
from kiwidesk.ingest.models import Receipt
from kiwidesk.ingest.services import (
    IngestResult,
    UnroutableMessageError,
    _accepted,
    _details,
    _duplicate,
    _first_line,
    _fit,
    _refusal,
    _sender_address,
    _text,
    idempotency_key,
)

# Values in one IN (...) list; SQLite allows 32,766 variables, older builds 999.
_IN_CHUNK = 900
# Rows planned but not inserted yet get their ids on insert, after every stored row.
_PLANNED = 1 << 62

Outcome = IngestResult | UnroutableMessageError
_T = TypeVar("_T")


class ConcurrentChangeError(Exception):
    """A case the batch routed to was merged meanwhile: replan, one message at a time."""


@dataclass
class Item:
    """One message of a batch, fitted to its columns, with its idempotency key."""

    original: InboundMessage
    message: InboundMessage
    key: str
    address: str | None = None  # the normalised sender; None when unusable
    error: UnroutableMessageError | None = None

    @property
    def claim(self) -> tuple[str, str]:
        return (self.message.source, self.key)


def new_item(message: InboundMessage) -> Item:
    fitted = _fit(message)
    item = Item(message, fitted, idempotency_key(fitted))
    try:
        item.address = _sender_address(fitted.sender)
    except UnroutableMessageError as error:
        item.error = error
    return item


class Clock:
    """`timezone.now()`, but strictly increasing, as the one-by-one path's times are."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    def now(self) -> datetime:
        at = timezone.now()
        if self.last is not None and at <= self.last:
            at = self.last + timedelta(microseconds=1)
        self.last = at
        return at


@dataclass(eq=False)
class _CaseRow:
    case: Case
    order: int  # its id, or after every stored id while planned
    threads: list[_ThreadRow] = field(default_factory=list)
    changed: bool = False


@dataclass(eq=False)
class _ThreadRow:
    thread: Thread
    case: _CaseRow
    contact_key: int | None
    order: int
    changed: bool = False


@dataclass(eq=False)
class _ContactRow:
    contact: Contact
    key: int  # its id, or a negative number while planned


@dataclass(slots=True)
class PlannedEvent:
    """An Event as events.py would record it; a plain value, many are planned at once."""

    case: Case
    kind: str
    created_at: datetime
    thread: Thread | None
    message: Message | None
    payload: dict[str, Any]

    def values(self) -> dict[str, Any]:
        return {
            "case_id": self.case.pk,
            "kind": self.kind,
            "actor_id": None,
            "thread_id": self.thread.pk if self.thread is not None else None,
            "message_id": self.message.pk if self.message is not None else None,
            "payload": self.payload,
            "created_at": self.created_at,
        }


@dataclass
class _Plan:
    """The rows a segment inserts, in the order one-by-one ingest would insert them."""

    contacts: list[Contact] = field(default_factory=list)
    identities: list[tuple[Contact, str]] = field(default_factory=list)  # email addresses
    cases: list[Case] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    attachments: list[tuple[Message, dict[str, Any]]] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)
    # Payload ids of cases still planned, filled in once they are inserted.
    event_case_ids: list[tuple[PlannedEvent, str, Case]] = field(default_factory=list)
    receipts: list[tuple[Item, Message]] = field(default_factory=list)


class Segment:
    """A run of messages read with one query per lookup, planned in memory, then written."""

    def __init__(self, team: Team | None, clock: Clock, items: list[Item]) -> None:
        self.team = team
        self.clock = clock
        self.items = items
        self.plan = _Plan()
        self.contacts: dict[str, _ContactRow] = {}
        self.cases: dict[int, _CaseRow] = {}
        self.cases_of: dict[int, list[_CaseRow]] = {}
        self.by_external_id: dict[str, _ThreadRow] = {}
        self.by_token: dict[str, _ThreadRow] = {}
        self.subject_cases: dict[int, int] = {}
        self.planned_orders = 0
        self.routed_cases: set[int] = set()

    def write(self) -> list[Outcome]:
        """Plan and write the segment's messages; return the outcomes of those written.

        It may write fewer than it was given: it stops before a subject token naming
        a case it cannot see yet, which an earlier message of the run may be opening.
        """
        stored = self._stored_messages()
        external_ids, token_threads = self._read_routes()
        self.items = self._until_unseen_subject_case()
        self._claim(stored)
        self._read_contacts()
        self._lock_cases(external_ids, token_threads)
        outcomes = [self._outcome(item, stored) for item in self.items]
        self._insert()
        return outcomes

    def _outcome(self, item: Item, stored: dict[tuple[str, str], Message]) -> Outcome:
        if item.claim in stored:
            return _duplicate(stored[item.claim])
        if item.error is not None:
            return item.error
        return self._store(item)

    # Reading

    def _stored_messages(self) -> dict[tuple[str, str], Message]:
        sources = {item.message.source for item in self.items}
        keys = [item.key for item in self.items]
        found: dict[tuple[str, str], int] = {}
        for chunk in _chunks(keys):
            rows = Receipt.objects.filter(
                source__in=sources, external_id__in=chunk, message__isnull=False
            ).values_list("source", "external_id", "message_id")
            found.update({(source, key): message_id for source, key, message_id in rows})
        wanted = {item.claim: found[item.claim] for item in self.items if item.claim in found}
        messages = Message.objects.select_related("case", "thread").in_bulk(wanted.values())
        return {claim: messages[message_id] for claim, message_id in wanted.items()}

    def _read_routes(self) -> tuple[dict[str, int], dict[str, int]]:
        """Thread ids by referenced Message-ID and by reply token; the cases subjects name."""
        self._read_subject_cases()
        external_ids, token_threads = self._read_references(), self._read_tokens()
        thread_ids = {*external_ids.values(), *token_threads.values()}
        routed = Thread.objects.filter(pk__in=thread_ids).values_list("case_id", flat=True)
        self.routed_cases = {*routed, *self.subject_cases.values()}
        return external_ids, token_threads

    def _read_references(self) -> dict[str, int]:
        references = {ref for item in self.items for ref in routing._referenced_ids(item.message)}
        external_ids: dict[str, int] = {}
        for chunk in _chunks(sorted(references)):
            rows = Message.objects.filter(external_id__in=chunk).values_list(
                "external_id", "thread_id"
            )
            # In the model's order the newest message with an id wins, as in by_headers.
            external_ids.update(dict(rows))
        return external_ids

    def _read_tokens(self) -> dict[str, int]:
        tokens = {item.message.reply_token.strip().lower() for item in self.items} - {""}
        token_threads: dict[str, int] = {}
        for chunk in _chunks(sorted(tokens)):
            rows = Thread.objects.filter(reply_token__in=chunk).values_list("reply_token", "id")
            token_threads.update({str(token): pk for token, pk in rows})
        return token_threads

    def _read_subject_cases(self) -> None:
        named = {number for item in self.items if (number := _subject_case(item)) is not None}
        for case in Case.objects.filter(pk__in=named):
            self.subject_cases[case.pk] = routing.current_case(case).pk

    def _until_unseen_subject_case(self) -> list[Item]:
        for position, item in enumerate(self.items[1:], start=1):
            number = _subject_case(item)
            if number is not None and number not in self.subject_cases:
                return self.items[:position]
        return self.items

    def _claim(self, stored: dict[tuple[str, str], Message]) -> None:
        # The first write, as in `ingest`: a concurrent delivery of one of these keys
        # fails on the unique constraint here, before any case is locked.
        claims = [
            {"source": item.message.source, "external_id": item.key, "sender": item.address}
            for item in self.items
            if item.claim not in stored and item.error is None
        ]
        bulk.insert_values(Receipt, claims)

    def _read_contacts(self) -> None:
        addresses = sorted({item.address for item in self.items if item.address is not None})
        for chunk in _chunks(addresses):
            identities = Identity.objects.filter(
                kind=IdentityKind.EMAIL, value__in=chunk
            ).select_related("contact")
            for identity in identities:
                contact = identity.contact
                self.contacts[identity.value] = _ContactRow(contact, contact.pk)

    def _lock_cases(self, external_ids: dict[str, int], token_threads: dict[str, int]) -> None:
        """Lock and load the cases routing may reach, with their threads.

        Locked in id order before their state is read, as `ingest` locks its one case:
        a close or a merge committed meanwhile is seen, not overwritten.
        """
        routed = self.routed_cases
        wanted = routed | self._latest_open_cases()
        for case in Case.objects.select_for_update().filter(pk__in=wanted).order_by("pk"):
            if case.pk in routed and case.is_merged:
                raise ConcurrentChangeError(f"case {case.pk} was merged while routing")
            self._add_case(_CaseRow(case, case.pk))
        for thread in Thread.objects.filter(case_id__in=routed).order_by("pk"):
            case_row = self.cases[thread.case_id]
            thread.case = case_row.case
            self._add_thread(_ThreadRow(thread, case_row, thread.contact_id, thread.pk))
        threads = {row.thread.pk: row for row in self._all_threads()}
        self.by_external_id = {key: threads[pk] for key, pk in external_ids.items()}
        self.by_token = {key: threads[pk] for key, pk in token_threads.items()}

    def _latest_open_cases(self) -> set[int]:
        """Each known sender's most recently active open case.

        Of their stored cases, the only one `other_open_case` can pick besides those
        this run routes to (loaded anyway): the others stay as they are, behind it.
        """
        latest: dict[int, tuple[datetime, int]] = {}
        customers = sorted(row.key for row in self.contacts.values())
        for chunk in _chunks(customers):
            rows = Case.objects.filter(
                customer_id__in=chunk, status__in=OPEN_STATUSES, merged_into__isnull=True
            ).values_list("customer_id", "updated_at", "pk")
            for customer, updated_at, pk in rows:
                latest[customer] = max(latest.get(customer, (updated_at, pk)), (updated_at, pk))
        return {pk for _, pk in latest.values()}

    def _all_threads(self) -> Iterator[_ThreadRow]:
        for case_row in self.cases.values():
            yield from case_row.threads

    def _add_case(self, row: _CaseRow) -> None:
        self.cases[row.order] = row
        self.cases_of.setdefault(row.case.customer_id or 0, []).append(row)

    def _add_thread(self, row: _ThreadRow) -> None:
        row.case.threads.append(row)

    def _planned_order(self) -> int:
        self.planned_orders += 1
        return _PLANNED + self.planned_orders

    # Planning one message, as `ingest` stores it

    def _store(self, item: Item) -> IngestResult:
        contact = self._contact(item)
        thread = self._route(item.message, contact)
        if thread is None:
            result = self._open(item, contact, closed=None)
        elif thread.case.case.status == Status.CLOSED:
            # Closed is final: the message starts a new case that points back to it.
            result = self._open(item, contact, closed=thread.case.case)
        else:
            result = self._receive(item, contact, thread)
        self.plan.receipts.append((item, result.message))
        return result

    def _contact(self, item: Item) -> _ContactRow:
        address = item.address or ""
        known = self.contacts.get(address)
        if known is not None:
            return known
        contact = Contact(name=item.message.sender.name or address)
        self.plan.contacts.append(contact)
        self.plan.identities.append((contact, address))
        row = _ContactRow(contact, -len(self.plan.contacts))
        self.contacts[address] = row
        return row

    def _route(self, message: InboundMessage, sender: _ContactRow) -> _ThreadRow | None:
        for external_id in routing._referenced_ids(message):
            referenced = self.by_external_id.get(external_id)
            if referenced is not None:
                return self._sender_thread(referenced, sender)
        token = self.by_token.get(message.reply_token.strip().lower())
        if token is not None:
            return token
        number = _subject_case_number(message.subject)
        if number is None or number not in self.subject_cases:
            return None
        return self._own_thread(self.cases[self.subject_cases[number]], sender)

    def _sender_thread(self, referenced: _ThreadRow, sender: _ContactRow) -> _ThreadRow:
        """routing._sender_thread over the planned rows as well as the stored ones."""
        if referenced.contact_key == sender.key:
            return referenced
        own = self._own_thread(referenced.case, sender)
        if own is not None:
            return own
        if referenced.thread.party != Party.INTERNAL:
            return referenced
        customer = [row for row in referenced.case.threads if row.thread.party == Party.CUSTOMER]
        return min(customer, key=_thread_created, default=referenced)

    def _own_thread(self, case: _CaseRow, sender: _ContactRow) -> _ThreadRow | None:
        """routing._own_thread: the sender's most recently active thread, by email first."""
        own = [
            row
            for row in case.threads
            if row.contact_key == sender.key and row.thread.party != Party.INTERNAL
        ]
        by_email = [row for row in own if row.thread.channel == Channel.EMAIL]
        return max(by_email or own, key=_thread_recency, default=None)

    def _open(self, item: Item, contact: _ContactRow, *, closed: Case | None) -> IngestResult:
        message = item.message
        at = self.clock.now()
        case = Case(
            subject=(message.subject or _first_line(message.text)).strip() or "(no subject)",
            customer=contact.contact,
            channel=message.channel,
            priority=Priority.NORMAL,
            sensitivity=Sensitivity.NORMAL,
            team=self.team,
            status=Status.NEW,
            created_at=at,
            updated_at=at,
        )
        self.plan.cases.append(case)
        case_row = _CaseRow(case, self._planned_order())
        self.cases[case_row.order] = case_row
        self.cases_of.setdefault(contact.key, []).append(case_row)
        self._event(case, EventKind.CASE_OPENED, at, **_opened_payload(case, self.team))
        thread = Thread(
            case=case,
            party=Party.CUSTOMER,
            channel=message.channel,
            contact=contact.contact,
            subject=case.subject,
            reply_token=new_reply_token(),
            created_at=at,
        )
        self.plan.threads.append(thread)
        thread_row = _ThreadRow(thread, case_row, contact.key, self._planned_order())
        self._add_thread(thread_row)
        self.by_token[str(thread.reply_token)] = thread_row
        stored = self._add_message(case_row, thread_row, item, contact, at=at)
        self._record_refused(stored, item)
        if closed is not None:
            event = self._event(case, EventKind.FOLLOWS_CLOSED_CASE, at, closed_case_id=closed.pk)
            event.payload["closed_subject"] = closed.subject
        other = self._other_open_case(contact, besides=case_row)
        if other is not None:
            event = self._event(case, EventKind.MERGE_SUGGESTED, at, other_case_id=other.pk)
            event.payload["other_subject"] = other.subject
            self.plan.event_case_ids.append((event, "other_case_id", other))
        return IngestResult(stored, case, thread, True, False, other)

    def _receive(self, item: Item, contact: _ContactRow, thread: _ThreadRow) -> IngestResult:
        at = self.clock.now()
        stored = self._add_message(thread.case, thread, item, contact, at=at)
        if not stored.is_automated:
            woken = _status_after_inbound(thread.case.case, thread.thread)
            if woken is not None:
                self._change_status(thread.case, woken, at=at)
        self._record_refused(stored, item)
        return IngestResult(stored, thread.case.case, thread.thread, False, False, None)

    def _add_message(
        self,
        case: _CaseRow,
        thread: _ThreadRow,
        item: Item,
        contact: _ContactRow,
        *,
        at: datetime,
    ) -> Message:
        """cases.services._add_message for an inbound mail."""
        message = item.message
        details = _details(message)
        text = _text(message)
        stored = Message(
            case=case.case,
            thread=thread.thread,
            direction=Direction.INBOUND,
            author_contact=contact.contact,
            body_text=text,
            body_html=sanitise_html(message.html),
            external_id=message.external_id,
            full_text=details.full_text,
            raw_file=details.raw_file,
            is_automated=details.is_automated,
            pii=stored_pii(message, text),
            delivery_status="",
            created_at=at,
        )
        self.plan.messages.append(stored)
        for attachment in _accepted(message.attachments):
            content = store_content(attachment.content)
            self.plan.attachments.append(
                (
                    stored,
                    {
                        "file": content.name,
                        "filename": clean_filename(attachment.filename),
                        "content_type": attachment.content_type or "application/octet-stream",
                        "size": content.size,
                        "sha256": content.sha256,
                        "content_id": attachment.content_id[:255],
                        "pii": attachment_findings(attachment.content, attachment.content_type),
                    },
                )
            )
        thread.thread.last_message_at = at
        thread.changed = True
        if message.external_id:
            self.by_external_id[message.external_id] = thread
        party, channel = thread.thread.party, thread.thread.channel
        self._event(
            case.case, EventKind.MESSAGE_RECEIVED, at, thread=thread.thread, message=stored,
            party=party, channel=channel,
        )  # fmt: skip
        if at > case.case.updated_at:
            case.case.updated_at = at
            case.changed = True
        return stored

    def _change_status(self, row: _CaseRow, status: str, *, at: datetime) -> None:
        """cases.services._change_status for a message waking a case (no actor)."""
        case = row.case
        previous = case.status
        case.status = status
        if previous in (Status.SOLVED, Status.CLOSED):
            case.solved_at = None
            case.closed_at = None
            self._event(case, EventKind.CASE_REOPENED, at, previous_status=previous)
        case.updated_at = max(case.updated_at, at)
        row.changed = True
        self._event(case, EventKind.STATUS_CHANGED, at, old=previous, new=status)

    def _record_refused(self, stored: Message, item: Item) -> None:
        for attachment in item.message.attachments:
            reason = _refusal(attachment)
            if reason is not None:
                self._event(
                    stored.case, EventKind.ATTACHMENT_REFUSED, stored.created_at,
                    thread=stored.thread, message=stored,
                    filename=attachment.filename, reason=reason,
                )  # fmt: skip

    def _other_open_case(self, contact: _ContactRow, *, besides: _CaseRow) -> Case | None:
        """routing.other_open_case over the planned cases as well as the stored ones."""
        candidates = [
            row
            for row in self.cases_of.get(contact.key, [])
            if row is not besides and row.case.is_open and not row.case.is_merged
        ]
        best = max(candidates, key=lambda row: (row.case.updated_at, row.order), default=None)
        return best.case if best is not None else None

    def _event(
        self,
        case: Case,
        kind: str,
        at: datetime,
        *,
        thread: Thread | None = None,
        message: Message | None = None,
        **payload: Any,
    ) -> PlannedEvent:
        event = PlannedEvent(case, kind, at, thread, message, payload)
        self.plan.events.append(event)
        return event

    # Writing

    def _insert(self) -> None:
        plan = self.plan
        bulk.insert(Contact, plan.contacts)
        identities = [
            {"contact_id": contact.pk, "kind": IdentityKind.EMAIL, "value": address,
             "is_primary": True}
            for contact, address in plan.identities
        ]  # fmt: skip
        bulk.insert_values(Identity, identities)
        bulk.insert(Case, plan.cases)
        bulk.insert(Thread, plan.threads)
        bulk.insert(Message, plan.messages)
        bulk.insert_values(
            Attachment, [{"message_id": m.pk, **values} for m, values in plan.attachments]
        )
        for event, name, case in plan.event_case_ids:
            event.payload[name] = case.pk
        bulk.insert_values(Event, [event.values() for event in plan.events])
        self._finish_receipts()
        self._update_stored_rows()

    def _finish_receipts(self) -> None:
        rows = [(message.pk, *item.claim) for item, message in self.plan.receipts]
        bulk.update_each(Receipt, ["message_id"], rows, by=("source", "external_id"))

    def _update_stored_rows(self) -> None:
        # One UPDATE statement run for many rows: bulk_update's CASE WHEN costs more
        # than the rest of a batch.
        when = connection.ops.adapt_datetimefield_value
        threads = [
            (when(row.thread.last_message_at), row.thread.pk)
            for row in self._all_threads()
            if row.changed and row.order < _PLANNED
        ]
        bulk.update_each(Thread, ["last_message_at"], threads)
        cases = [
            (c.status, when(c.solved_at), when(c.closed_at), when(c.updated_at), c.pk)
            for c in (
                row.case for row in self.cases.values() if row.changed and row.order < _PLANNED
            )
        ]
        bulk.update_each(Case, ["status", "solved_at", "closed_at", "updated_at"], cases)


def _opened_payload(case: Case, team: Team | None) -> dict[str, Any]:
    """events.case_opened's payload."""
    return {
        "channel": case.channel,
        "status": case.status,
        "priority": case.priority,
        "sensitivity": case.sensitivity,
        "category": case.category,
        "team": shown(team),
        "assignee": None,
    }


def _thread_recency(row: _ThreadRow) -> tuple[bool, datetime, int]:
    # "last_message_at DESC NULLS LAST, id DESC" as a key for max().
    at = row.thread.last_message_at
    return (at is not None, at or datetime.min.replace(tzinfo=UTC), row.order)


def _thread_created(row: _ThreadRow) -> tuple[datetime, int]:
    return (row.thread.created_at, row.order)


_SUBJECT_TOKEN = routing._SUBJECT_TOKEN


def _subject_case_number(subject: str) -> int | None:
    match = _SUBJECT_TOKEN.search(subject)
    return int(match.group(1)) if match is not None else None


def _subject_case(item: Item) -> int | None:
    return _subject_case_number(item.message.subject)


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]
