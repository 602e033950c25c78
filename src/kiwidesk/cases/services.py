"""The verbs that change cases. Views, the API and channels call these and nothing else.

Every verb runs in one transaction and writes its Events in that same transaction,
so the timeline never disagrees with the case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import events, outbox, queries
from kiwidesk.cases.content import (
    NewAttachment,
    attachment_findings,
    check_attachment,
    clean_filename,
    sanitise_html,
    store_content,
)
from kiwidesk.cases.models import (
    Attachment,
    Call,
    Case,
    Channel,
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    Message,
    OutboxItem,
    Party,
    Priority,
    Sensitivity,
    Status,
    Tag,
    Thread,
    new_reply_token,
)
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import normalise_identity
from kiwidesk.pii import detect as detect_pii


class CaseMergedError(ValueError):
    """The case was merged into another one; act on that case instead."""


class MergeError(ValueError):
    """Two cases cannot be merged (the same case, or one already merged)."""


class EmptyMessageError(ValueError):
    """A message with neither text nor attachments."""


@dataclass(frozen=True)
class InboundDetails:
    """What a channel kept of an inbound message beyond its displayed text.

    `full_text` is the text before quotes and signature were stripped (empty when the
    same), `raw_file` the storage name of the original bytes, and `is_automated` marks
    an auto-reply or bounce, which is stored but never wakes a case.
    """

    full_text: str = ""
    raw_file: str = ""
    is_automated: bool = False


class CaseChanges(TypedDict, total=False):
    """The case fields an agent may change; only the keys present are changed."""

    subject: str
    status: str
    priority: str
    category: str
    sensitivity: str
    assignee: Agent | None
    team: Team | None
    due_at: datetime | None
    tags: list[str]


def normalise_tags(names: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, unique tag names, in the order given."""
    seen: dict[str, None] = {}
    for name in names:
        cleaned = " ".join(name.strip().lower().split())[:50]
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


@transaction.atomic
def open_case(
    actor: Agent | None,
    *,
    customer: Contact,
    subject: str,
    message_text: str,
    message_html: str = "",
    channel: str = Channel.API,
    priority: str = Priority.NORMAL,
    category: str = "",
    sensitivity: str = Sensitivity.NORMAL,
    team: Team | None = None,
    assignee: Agent | None = None,
    tags: Sequence[str] = (),
    attachments: Sequence[NewAttachment] = (),
    external_id: str = "",
    inbound: InboundDetails | None = None,
    at: datetime | None = None,
) -> Case:
    """Open a case with the customer's first message on a new customer thread.

    `actor` is the agent who logged it (a phone call, the new-case form), or None
    when the customer wrote in on a channel. `inbound` carries what a channel kept
    of the original (see `InboundDetails`).
    """
    at = at or timezone.now()
    case = Case.objects.create(
        subject=subject.strip() or "(no subject)",
        customer=customer,
        channel=channel,
        priority=priority,
        category=category,
        sensitivity=sensitivity,
        team=team,
        assignee=assignee,
        status=Status.OPEN if assignee else Status.NEW,
        created_at=at,
        updated_at=at,
    )
    if tags:
        case.tags.set(_tags(normalise_tags(tags)))
    events.case_opened(case, actor, at=at)
    thread = Thread.objects.create(
        case=case,
        party=Party.CUSTOMER,
        channel=channel,
        contact=customer,
        subject=case.subject,
        reply_token=new_reply_token(),
        created_at=at,
    )
    _add_message(
        case,
        thread,
        actor,
        direction=Direction.INBOUND,
        text=message_text,
        html=message_html,
        author_contact=customer,
        attachments=attachments,
        external_id=external_id,
        inbound=inbound,
        at=at,
    )
    return case


@transaction.atomic
def open_thread(
    actor: Agent | None,
    case: Case,
    *,
    contact: Contact,
    channel: str,
    party: str = Party.THIRD_PARTY,
    subject: str = "",
    at: datetime | None = None,
) -> Thread:
    """Start a conversation on the case with another party (a restaurant, a clinic…)."""
    _ensure_not_merged(case)
    at = at or timezone.now()
    thread = Thread.objects.create(
        case=case,
        party=party,
        channel=channel,
        contact=contact,
        subject=subject.strip() or case.subject,
        reply_token=None if party == Party.INTERNAL else new_reply_token(),
        created_at=at,
    )
    events.thread_opened(case, actor, thread, at=at)
    _touch(case, at)
    return thread


@transaction.atomic
def reply(
    actor: Agent,
    thread: Thread,
    *,
    text: str,
    html: str = "",
    attachments: Sequence[NewAttachment] = (),
    at: datetime | None = None,
    preapproved: bool = False,
) -> Message:
    """Write to the party of `thread`; the message waits as pending for its channel to send.

    Its send (tasks.send_outbound, calling `deliver_outbound`) is queued only once
    the transaction commits, so a worker never looks for a message that a rollback
    took back. A message the channel would refuse (WhatsApp outside the customer's
    24-hour window) is refused here, before it is stored, with the channel's error,
    unless it is `preapproved` by the provider (a WhatsApp template).
    """
    at = at or timezone.now()
    case = _lock(thread.case_id)
    _ensure_not_merged(case)
    if not preapproved:
        outbox.ensure_sendable(thread, at=at)
    message = _add_message(
        case,
        thread,
        actor,
        direction=Direction.OUTBOUND,
        text=text,
        html=html,
        author_agent=actor,
        attachments=attachments,
        at=at,
    )
    _start_work(actor, case, at=message.created_at)
    _queue_outbound(message)
    return message


def _queue_outbound(message: Message) -> None:
    """Put an outbound message in the outbox; its send is queued once the transaction commits."""
    OutboxItem.objects.create(message=message, due_at=message.created_at)
    # robust: the message is already committed when this runs, so a task queue that
    # is down must not turn the agent's reply into an error; the stall sweep
    # (`recover_stalled_sends`) queues the message later.
    transaction.on_commit(partial(_queue_send, message.pk), robust=True)


@transaction.atomic
def send_automated(thread: Thread, *, text: str, at: datetime | None = None) -> Message:
    """Send a message no agent wrote (an SLA reminder) to the party of `thread`.

    Queued for its channel after the commit and refused first if the channel would
    refuse it, as `reply`; but it is marked automated, so it is nobody's reply for any
    reply metric, and it changes no status.
    """
    at = at or timezone.now()
    case = _lock(thread.case_id)
    _ensure_not_merged(case)
    outbox.ensure_sendable(thread, at=at)
    # The automated flag rides on the same details an auto-reply arrives with.
    message = _add_message(
        case,
        thread,
        None,
        direction=Direction.OUTBOUND,
        text=text,
        inbound=InboundDetails(is_automated=True),
        at=at,
    )
    _queue_outbound(message)
    return message


@transaction.atomic
def add_note(
    actor: Agent,
    case: Case,
    *,
    text: str,
    attachments: Sequence[NewAttachment] = (),
    sensitivity: str = Sensitivity.NORMAL,
    at: datetime | None = None,
) -> Message:
    """Add an internal note, seen by agents only, on the case's internal thread.

    A clinical note on a normal case is withheld from agents not cleared for it.
    """
    case = _lock(case.pk)
    _ensure_not_merged(case)
    at = at or timezone.now()
    thread = internal_thread(case, at=at)
    message = _add_message(
        case,
        thread,
        actor,
        direction=Direction.NOTE,
        text=text,
        author_agent=actor,
        attachments=attachments,
        at=at,
    )
    if sensitivity != Sensitivity.NORMAL:
        Message.objects.filter(pk=message.pk).update(sensitivity=sensitivity)
        message.sensitivity = sensitivity
    _start_work(actor, case, at=at)
    return message


@transaction.atomic
def set_message_sensitivity(actor: Agent, message: Message, sensitivity: str) -> Message:
    """Mark one message more (or less) sensitive than its case, on the timeline."""
    if sensitivity not in Sensitivity.values:
        raise ValueError(f"unknown sensitivity {sensitivity!r}")
    _lock(message.case_id)
    message = Message.objects.select_related("case", "thread").get(pk=message.pk)
    old = message.sensitivity
    if old == sensitivity:
        return message
    message.sensitivity = sensitivity
    message.save(update_fields=["sensitivity"])
    events.message_sensitivity_changed(message, actor, old=old, at=timezone.now())
    return message


@transaction.atomic
def receive_message(
    thread: Thread,
    *,
    text: str,
    html: str = "",
    author: Contact | None = None,
    attachments: Sequence[NewAttachment] = (),
    external_id: str = "",
    inbound: InboundDetails | None = None,
    at: datetime | None = None,
) -> Message:
    """Store a message the thread's party sent us, and wake the case up.

    The case row is locked first so that two messages arriving together for the
    same case cannot both read "solved" and both reopen it. An automated message
    (an auto-reply, a bounce) is stored but never wakes or reopens the case.
    """
    case = _lock(thread.case_id)
    at = at or timezone.now()
    message = _add_message(
        case,
        thread,
        None,
        direction=Direction.INBOUND,
        text=text,
        html=html,
        author_contact=author or thread.contact,
        attachments=attachments,
        external_id=external_id,
        inbound=inbound,
        at=at,
    )
    if message.is_automated:
        return message
    woken = _status_after_inbound(case, thread)
    if woken is not None:
        _change_status(None, case, woken, at=at)
    return message


@transaction.atomic
def update_case(
    actor: Agent | None, case: Case, changes: CaseChanges, *, at: datetime | None = None
) -> Case:
    """Apply the given field changes, one Event for each field that really changed.

    `at` is for importing history; by default the change happens now.
    """
    case = _lock(case.pk)
    _ensure_not_merged(case)
    at = at or timezone.now()
    for field, value in changes.items():
        if field == "status":
            _change_status(actor, case, str(value), at=at)
        elif field != "tags":
            _change_field(actor, case, field, value, at=at)
    if "tags" in changes:
        _set_tags(actor, case, normalise_tags(changes["tags"]), at=at)
    _touch(case, at)
    return case


@transaction.atomic
def merge_cases(actor: Agent | None, *, source: Case, target: Case) -> Case:
    """Move every thread and message of `source` into `target`, and close `source`.

    Events stay on the case where they happened (they are immutable); the target's
    timeline reads them through `merged_into`.
    """
    if source.pk == target.pk:
        raise MergeError("a case cannot be merged into itself")
    # Lock both rows in id order so two opposite merges cannot deadlock.
    locked = {
        c.pk: c
        for c in Case.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.is_merged or target.is_merged:
        raise MergeError("a case that was merged into another cannot take part in a merge")
    at = timezone.now()
    Thread.objects.filter(case=source).update(case=target)
    Message.objects.filter(case=source).update(case=target)
    Case.objects.filter(merged_into=source).update(merged_into=target)
    target.tags.add(*source.tags.all())
    events.merged_into(source, actor, target=target, at=at)
    events.case_merged(target, actor, source=source, at=at)
    source.merged_into = target
    previous = source.status
    source.status = Status.CLOSED
    source.closed_at = at
    source.updated_at = at
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    events.field_changed(
        source, actor, EventKind.STATUS_CHANGED, old=previous, new=Status.CLOSED, at=at
    )
    _touch(target, at)
    return target


@transaction.atomic
def move_thread_to_contact(thread: Thread, *, contact: Contact) -> Thread:
    """Give `thread` to `contact`: its party turned out to be someone else (a web chat
    visitor who gave their email address), with the messages they wrote on it.

    The case's customer moves too when the thread is the customer's and the case was
    theirs. The case row is locked so a message being stored cannot land in between.
    """
    _lock(thread.case_id)
    previous = thread.contact_id
    if previous == contact.pk:
        return thread
    Thread.objects.filter(pk=thread.pk).update(contact=contact)
    Message.objects.filter(thread=thread, author_contact_id=previous).update(author_contact=contact)
    if thread.party == Party.CUSTOMER:
        Case.objects.filter(pk=thread.case_id, customer_id=previous).update(customer=contact)
    thread.contact = contact
    return thread


@transaction.atomic
def merge_as_team_prefers(source_id: int, target_id: int) -> Case | None:
    """Merge a suggested case into the customer's open one when the open case's team
    merges new cases automatically; return the target, or None when nothing merged.

    Checked again when it runs (the task comes after ingest): either case may have
    been merged, closed or handed to another team meanwhile.
    """
    source = Case.objects.filter(pk=source_id, merged_into__isnull=True).first()
    target = (
        Case.objects.select_related("team")
        .filter(pk=target_id, merged_into__isnull=True)
        .exclude(status=Status.CLOSED)
        .first()
    )
    if source is None or target is None or target.team is None:
        return None
    if not target.team.merges_new_cases or source.status == Status.CLOSED:
        return None
    return merge_cases(None, source=source, target=target)


def internal_thread(case: Case, *, at: datetime) -> Thread:
    thread = Thread.objects.filter(case=case, party=Party.INTERNAL).first()
    if thread is None:
        thread = Thread.objects.create(
            case=case,
            party=Party.INTERNAL,
            channel=Channel.INTERNAL,
            subject="Internal notes",
            created_at=at,
        )
    return thread


def _lock(case_id: int) -> Case:
    return Case.objects.select_for_update().get(pk=case_id)


def _ensure_not_merged(case: Case) -> None:
    if case.is_merged:
        raise CaseMergedError(f"case {case.pk} was merged into case {case.merged_into_id}")


def _touch(case: Case, at: datetime) -> None:
    if at > case.updated_at:
        case.updated_at = at
        Case.objects.filter(pk=case.pk).update(updated_at=at)


def _add_message(
    case: Case,
    thread: Thread,
    actor: Agent | None,
    *,
    direction: str,
    text: str,
    at: datetime,
    html: str = "",
    author_agent: Agent | None = None,
    author_contact: Contact | None = None,
    attachments: Sequence[NewAttachment] = (),
    external_id: str = "",
    inbound: InboundDetails | None = None,
) -> Message:

    inbound = inbound or InboundDetails()
    if not text.strip() and not html.strip() and not attachments:
        raise EmptyMessageError("a message needs text or an attachment")
    for attachment in attachments:
        check_attachment(attachment)
    message = Message.objects.create(
        case=case,
        thread=thread,
        direction=direction,
        author_agent=author_agent,
        author_contact=author_contact,
        body_text=text,
        body_html=sanitise_html(html),
        external_id=external_id,
        full_text=inbound.full_text,
        raw_file=inbound.raw_file,
        is_automated=inbound.is_automated,
        pii=[[finding.type, finding.start, finding.end] for finding in detect_pii(text)],
        delivery_status=DeliveryStatus.PENDING if direction == Direction.OUTBOUND else "",
        created_at=at,
    )
    for attachment in attachments:
        stored = store_content(attachment.content)
        Attachment.objects.create(
            message=message,
            file=stored.name,
            filename=clean_filename(attachment.filename),
            content_type=attachment.content_type or "application/octet-stream",
            size=stored.size,
            sha256=stored.sha256,
            content_id=attachment.content_id[:255],
            pii=attachment_findings(attachment.content, attachment.content_type),
        )
    Thread.objects.filter(pk=thread.pk).update(last_message_at=at)
    events.message_added(case, actor, message)
    _touch(case, at)
    return message


def _start_work(actor: Agent | None, case: Case, *, at: datetime) -> None:
    """An agent's first reply or note takes a new case out of the "new" pile."""
    if case.status == Status.NEW:
        _change_status(actor, case, Status.OPEN, at=at)


def _status_after_inbound(case: Case, thread: Thread) -> str | None:
    if case.status == Status.SOLVED:
        return Status.OPEN
    if case.status == Status.PENDING_CUSTOMER and thread.party == Party.CUSTOMER:
        return Status.OPEN
    if case.status == Status.PENDING_THIRD_PARTY and thread.party == Party.THIRD_PARTY:
        return Status.OPEN
    return None


def _change_status(actor: Agent | None, case: Case, status: str, *, at: datetime) -> None:
    previous = case.status
    if status == previous:
        return
    case.status = status
    if status == Status.SOLVED:
        case.solved_at = at
    if status == Status.CLOSED:
        case.closed_at = at
    if previous in (Status.SOLVED, Status.CLOSED) and status not in (Status.SOLVED, Status.CLOSED):
        case.solved_at = None
        case.closed_at = None
        events.case_reopened(case, actor, previous_status=previous, at=at)
    case.updated_at = max(case.updated_at, at)
    case.save(update_fields=["status", "solved_at", "closed_at", "updated_at"])
    events.field_changed(case, actor, EventKind.STATUS_CHANGED, old=previous, new=status, at=at)


def _change_field(actor: Agent | None, case: Case, field: str, value: Any, *, at: datetime) -> None:
    kind = events.FIELD_EVENTS[field]
    previous = getattr(case, field)
    if previous == value:
        return
    setattr(case, field, value)
    case.save(update_fields=[field])
    events.field_changed(
        case, actor, kind, old=_displayable(previous), new=_displayable(value), at=at
    )


def _displayable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (Agent, Team)):
        return events.shown(value)
    return value


def _set_tags(actor: Agent | None, case: Case, names: list[str], *, at: datetime) -> None:
    previous = sorted(case.tags.values_list("name", flat=True))
    if previous == sorted(names):
        return
    case.tags.set(_tags(names))
    events.field_changed(
        case, actor, EventKind.TAGS_CHANGED, old=previous, new=sorted(names), at=at
    )


def _tags(names: list[str]) -> list[Tag]:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    return [existing[name] for name in names]


# How far each delivery status has come. A status only ever moves to a higher rank,
# because providers send callbacks in no guaranteed order: a late "sent" must not undo
# "delivered", and "failed" and "delivered" are both ends that the other cannot follow.
_DELIVERY_RANK: dict[str, int] = {
    DeliveryStatus.NONE: 0,
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.READ: 3,
}


def record_delivery(
    message: Message, status: str, *, at: datetime, error: str = "", external_id: str = ""
) -> Event | None:
    """Move an outbound message's delivery status forward and record it as an Event.

    Idempotent: a status the message has already reached (or passed) changes nothing
    and records nothing, so a provider's redelivered callback is harmless. The update
    is conditional on the status still being behind, so two callbacks racing for the
    same message cannot both record the step. `external_id` is the provider's id,
    given when a send is accepted, so later callbacks can find the message.
    """
    behind = [s for s, rank in _DELIVERY_RANK.items() if rank < _DELIVERY_RANK[status]]
    with transaction.atomic():
        changes: dict[str, str] = {"delivery_status": status}
        if external_id:
            changes["external_id"] = external_id
        moved = Message.objects.filter(pk=message.pk, delivery_status__in=behind).update(**changes)
        if moved != 1:
            return None
        previous = message.delivery_status
        message.delivery_status = status
        message.external_id = external_id or message.external_id
        return events.delivery_updated(
            message, previous=previous, status=status, error=error, at=at
        )


# The outbox (STYLE.md §11.4). A reply is stored `pending` with an OutboxItem; after
# commit a task calls `deliver_outbound`, which claims the message (pending → sending)
# with a conditional UPDATE, calls the channel's sender outside any transaction, and
# records `sent` with the provider's id, or a failure. Claiming makes a duplicate or
# late task harmless: it finds the message sending, sent or failed and does nothing.
logger = logging.getLogger(__name__)

# A transient failure is retried after 1, 4, 16 and 60 minutes; the fifth failure is final.
MAX_SEND_ATTEMPTS = 5
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=1)
# A claimed send that has not finished by then died with its worker (senders time out
# after 10 to 30 seconds), so the sweep hands it back to the outbox. Sending again may
# repeat a message the provider accepted just before the crash: at least once, never lost.
SEND_STALLS_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class SendOutcome:
    """What one call of `deliver_outbound` did: the status it left, and when to retry."""

    status: str
    retry_at: datetime | None = None


NOT_CLAIMED = SendOutcome("not_claimed")


def deliver_outbound(message_id: int, *, at: datetime | None = None) -> SendOutcome:
    """Send one pending outbound message through its channel's registered sender.

    Idempotent: only a pending message whose attempt is due is claimed, so a retry of
    a sent, failed or already-claimed message does nothing and returns NOT_CLAIMED.
    A permanent failure (the provider's refusal, a closed WhatsApp window, a channel
    nothing can send on) marks the message failed with an Event; a transient one
    puts it back to pending with a retry time, until MAX_SEND_ATTEMPTS.
    """
    at = at or timezone.now()
    message = _claim_send(message_id, at=at)
    if message is None:
        return NOT_CLAIMED
    try:
        provider_id = outbox.sender_for(message.thread.channel)(message)
    except outbox.NoSenderError as exc:
        return _fail_send(message, str(exc), at=at)
    except outbox.SendError as exc:
        if exc.is_permanent:
            return _fail_send(message, str(exc), at=at)
        return _retry_send(message, str(exc), at=at)
    except Exception as exc:
        # A sender's bug must not leave the message claimed for ever; it counts as
        # transient so the attempt cap still ends it.
        logger.exception("sending message %s failed unexpectedly", message_id)
        return _retry_send(message, f"{type(exc).__name__}: {exc}", at=at)
    with transaction.atomic():
        record_delivery(message, DeliveryStatus.SENT, at=at, external_id=provider_id)
        OutboxItem.objects.filter(message=message).delete()
    return SendOutcome(DeliveryStatus.SENT)


def recover_stalled_sends(*, at: datetime | None = None) -> list[int]:
    """Hand stalled outbox messages back to be sent; return the ids to queue again.

    Two kinds stall: a message claimed by a worker that died (`sending` past its
    item's `due_at`), and a pending message whose task was never queued (the process
    died between commit and enqueue) or was lost, SEND_STALLS_AFTER past due. Queuing
    one twice is harmless, because only one task can claim it. A message that has
    had MAX_SEND_ATTEMPTS attempts is failed instead, so a sender that kills its
    worker cannot loop.
    """
    at = at or timezone.now()
    stalled = OutboxItem.objects.filter(
        Q(message__delivery_status=DeliveryStatus.SENDING, due_at__lt=at)
        | Q(message__delivery_status=DeliveryStatus.PENDING, due_at__lt=at - SEND_STALLS_AFTER)
    ).select_related("message__case", "message__thread")
    requeued = []
    for item in stalled:
        message = item.message
        if item.attempts >= MAX_SEND_ATTEMPTS:
            _fail_send(message, f"Gave up after {item.attempts} attempts that stalled.", at=at)
            continue
        with transaction.atomic():
            handed_back = Message.objects.filter(
                pk=message.pk, delivery_status=message.delivery_status
            ).update(delivery_status=DeliveryStatus.PENDING)
            OutboxItem.objects.filter(pk=item.pk).update(due_at=at)
        if handed_back == 1:
            requeued.append(message.pk)
    return requeued


@transaction.atomic
def _claim_send(message_id: int, *, at: datetime) -> Message | None:
    # The item is locked first so a claim waiting on another sees that claim's new
    # due_at; the conditional UPDATE of the message's status is the claim itself.
    due = OutboxItem.objects.select_for_update().filter(message_id=message_id, due_at__lte=at)
    if due.first() is None:
        return None
    claimed = Message.objects.filter(pk=message_id, delivery_status=DeliveryStatus.PENDING).update(
        delivery_status=DeliveryStatus.SENDING
    )
    if claimed != 1:
        return None
    OutboxItem.objects.filter(message_id=message_id).update(
        attempts=F("attempts") + 1, due_at=at + SEND_STALLS_AFTER
    )
    return Message.objects.select_related("case", "thread", "thread__contact", "outbox_item").get(
        pk=message_id
    )


def _fail_send(message: Message, reason: str, *, at: datetime) -> SendOutcome:
    with transaction.atomic():
        record_delivery(message, DeliveryStatus.FAILED, at=at, error=reason)
        OutboxItem.objects.filter(message=message).delete()
    return SendOutcome(DeliveryStatus.FAILED)


def _retry_send(message: Message, reason: str, *, at: datetime) -> SendOutcome:
    attempts = message.outbox_item.attempts
    if attempts >= MAX_SEND_ATTEMPTS:
        return _fail_send(message, f"Gave up after {attempts} attempts: {reason}", at=at)
    retry_at = at + min(FIRST_RETRY_DELAY * 4 ** (attempts - 1), MAX_RETRY_DELAY)
    with transaction.atomic():
        handed_back = Message.objects.filter(
            pk=message.pk, delivery_status=DeliveryStatus.SENDING
        ).update(delivery_status=DeliveryStatus.PENDING)
        OutboxItem.objects.filter(message=message).update(due_at=retry_at)
        if handed_back:
            events.delivery_updated(
                message,
                previous=DeliveryStatus.SENDING,
                status=DeliveryStatus.PENDING,
                error=reason,
                at=at,
                retry_at=retry_at,
                attempt=attempts,
            )
    logger.warning("sending message %s failed, retrying at %s: %s", message.pk, retry_at, reason)
    return SendOutcome(DeliveryStatus.PENDING, retry_at=retry_at)


def _queue_send(message_id: int) -> None:
    # Imported here because the task module imports this one to call its verbs.
    from kiwidesk.cases import tasks

    tasks.queue_reply(message_id)


# Phone calls (issue 3). A call is a Message on the party's phone thread plus its Call
# row: the message puts it in the thread and the timeline like any other, the Call
# holds what only a call has (numbers, outcome, duration, recording, transcript).
CALL_WITHOUT_NOTES = "(no notes)"


class CallAlreadyLoggedError(ValueError):
    """The provider's id of this call is already logged; `call` is the logged one."""

    def __init__(self, call: Call) -> None:
        super().__init__(f"call {call.provider_call_id} is already logged")
        self.call = call


class NoPartyToCallError(ValueError):
    """The internal thread has no party, so no call can be logged on it."""


class MissingNumberError(ValueError):
    """No number was given for the party, and their contact has none on file."""


@dataclass(frozen=True)
class CallDetails:
    """What is known of a call, from our side of the line.

    `party_number` is the other side (empty: the thread contact's number on file),
    `our_number` ours (may be empty for a desk phone). `started_at` None means the
    call just ended: it started its duration before it was logged. `source` and `provider_call_id`
    (Twilio's CallSid) let the provider's later callbacks (recording, transcript)
    find the call.
    """

    direction: str
    outcome: str
    party_number: str = ""
    our_number: str = ""
    duration_seconds: int = 0
    started_at: datetime | None = None
    source: str = ""
    provider_call_id: str = ""

    def start(self, *, logged_at: datetime) -> datetime:
        return self.started_at or logged_at - timedelta(seconds=self.duration_seconds)


@transaction.atomic
def log_call(actor: Agent | None, thread: Thread, *, details: CallDetails, notes: str = "") -> Call:
    """Log a call with the party of `thread` on the case's phone thread with that party.

    `thread` may be on any channel: the call goes on the case's phone thread with the
    same party and contact, opened here when there is none. The message is dated at
    the given start, else when it is logged, and has no delivery status (nothing is
    sent). An inbound call wakes the case as a message from the party would; an
    outbound one takes a new case out of the "new" pile. Numbers are stored in E.164.
    Raises
    InvalidIdentityError for a number that is not one, MissingNumberError when the
    party has no number, CallAlreadyLoggedError when the provider's call id is
    already logged (the unique constraint settles a race), and NoPartyToCallError
    on the internal thread.
    """
    if thread.party == Party.INTERNAL:
        raise NoPartyToCallError("The internal thread has no party to call; pick a thread.")
    details = _with_numbers(details, thread.contact)
    case = _lock(thread.case_id)
    _ensure_not_merged(case)
    _ensure_not_logged(details)
    # A call logged as it ends goes on the timeline now (not before the events that led
    # to it); a start given explicitly (an import, the API) dates it in the past.
    at = details.started_at or timezone.now()
    phone = _phone_thread(actor, case, thread, at=at)
    message = _add_message(
        case,
        phone,
        actor,
        direction=details.direction,
        text=notes.strip() or CALL_WITHOUT_NOTES,
        author_agent=actor if details.direction == Direction.OUTBOUND else None,
        author_contact=phone.contact if details.direction == Direction.INBOUND else None,
        at=at,
    )
    call = _new_call(message, details, actor)
    if details.direction == Direction.INBOUND:
        _wake_for_call(case, phone, at=message.created_at)
    else:
        _start_work(actor, case, at=message.created_at)
    return call


@transaction.atomic
def record_call(message: Message, *, details: CallDetails) -> Call:
    """Make an inbound message that ingest stored for a provider's call report the call.

    Ingest has routed, stored and woken the case already; this adds the Call row and
    its Event. Idempotent: a message that is already a call returns that call.
    """
    existing = Call.objects.filter(message=message).first()
    if existing is not None:
        return existing
    return _new_call(message, details, None)


@transaction.atomic
def attach_recording(
    call: Call, *, recording: NewAttachment, recording_sid: str, at: datetime | None = None
) -> Call:
    """Store a call's recording (content-addressed, like any attachment) on its message.

    Idempotent on `recording_sid`: the call row is locked first, so a redelivered
    or racing callback for the same recording finds it attached and changes
    nothing. A different recording later becomes the call's recording; the earlier
    one stays an attachment. Raises AttachmentRefusedError over the size limit.
    """
    call = _lock_call(call.pk)
    if recording_sid and call.recording_sid == recording_sid:
        return call
    check_attachment(recording)
    stored = store_content(recording.content)
    attachment = Attachment.objects.create(
        message=call.message,
        file=stored.name,
        filename=clean_filename(recording.filename),
        content_type=recording.content_type or "application/octet-stream",
        size=stored.size,
        sha256=stored.sha256,
    )
    call.recording = attachment
    call.recording_sid = recording_sid
    call.save(update_fields=["recording", "recording_sid"])
    events.recording_attached(call, attachment, at=at or timezone.now())
    return call


@transaction.atomic
def attach_transcript(call: Call, *, text: str, at: datetime | None = None) -> Call:
    """Keep the provider's transcript of the call; the same text again changes nothing."""
    call = _lock_call(call.pk)
    if call.transcript == text.strip():
        return call
    call.transcript = text.strip()
    call.save(update_fields=["transcript"])
    events.transcript_attached(call, at=at or timezone.now())
    return call


def _ensure_not_logged(details: CallDetails) -> None:
    if not details.provider_call_id:
        return
    logged = Call.objects.filter(
        source=details.source, provider_call_id=details.provider_call_id
    ).first()
    if logged is not None:
        raise CallAlreadyLoggedError(logged)


def _with_numbers(details: CallDetails, contact: Contact | None) -> CallDetails:
    """The details with both numbers in E.164, the party's from their contact if not given."""
    party = details.party_number.strip() or queries.number_on_file(contact)
    if not party:
        raise MissingNumberError(f"{contact} has no phone number on file; give the number.")
    ours = details.our_number.strip()
    return replace(
        details,
        party_number=normalise_identity(IdentityKind.PHONE, party),
        our_number=normalise_identity(IdentityKind.PHONE, ours) if ours else "",
    )


def _phone_thread(actor: Agent | None, case: Case, thread: Thread, *, at: datetime) -> Thread:
    """`thread` itself on the phone channel, else the case's phone thread with its party."""
    if thread.channel == Channel.PHONE:
        return thread
    same_party = Thread.objects.filter(
        case=case, party=thread.party, contact=thread.contact_id, channel=Channel.PHONE
    ).first()
    if same_party is not None:
        return same_party
    assert thread.contact is not None  # noqa: S101 - only internal threads have no contact
    return open_thread(
        actor, case, contact=thread.contact, channel=Channel.PHONE, party=thread.party, at=at
    )


def _new_call(message: Message, details: CallDetails, actor: Agent | None) -> Call:
    # A call is not sent by the outbox, so it carries no delivery status.
    if message.delivery_status:
        Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.NONE)
        message.delivery_status = DeliveryStatus.NONE
    inbound = message.direction == Direction.INBOUND
    try:
        # A savepoint, so losing the race for a provider's call id (two callbacks, or
        # a callback and an agent, at once) is a clear refusal, not a broken transaction.
        with transaction.atomic():
            call = Call.objects.create(
                message=message,
                from_number=details.party_number if inbound else details.our_number,
                to_number=details.our_number if inbound else details.party_number,
                started_at=details.start(logged_at=message.created_at),
                duration_seconds=details.duration_seconds,
                outcome=details.outcome,
                source=details.source,
                provider_call_id=details.provider_call_id,
            )
    except IntegrityError:
        _ensure_not_logged(details)
        raise
    events.call_logged(call, actor)
    return call


def _wake_for_call(case: Case, thread: Thread, *, at: datetime) -> None:
    woken = _status_after_inbound(case, thread)
    if woken is not None:
        _change_status(None, case, woken, at=at)


def _lock_call(call_id: int) -> Call:
    return (
        Call.objects.select_for_update(of=("self",))
        .select_related("message__case", "message__thread", "recording")
        .get(pk=call_id)
    )
