"""The one path every inbound message takes: dedupe, identify, route, store.

Channel adapters verify and parse into an `InboundMessage` and call `ingest`; what
they cannot parse, or what `ingest` refuses, they hand to `quarantine` with its raw
bytes. Nothing else writes inbound messages.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import events
from kiwidesk.cases import services as cases
from kiwidesk.cases import tasks as case_tasks
from kiwidesk.cases.content import AttachmentRefusedError, NewAttachment, check_attachment
from kiwidesk.cases.models import Case, Channel, Message, Status, Thread
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import (
    InvalidIdentityError,
    find_or_create_contact,
    normalise_identity,
)
from kiwidesk.ingest import parsers, routing
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.models import QuarantinedMessage, Receipt

# More than RATE_LIMIT mails from one sender within RATE_WINDOW is a mail loop, not a
# customer: the rest are quarantined until an admin re-processes them.
RATE_LIMIT = 20
RATE_WINDOW = timedelta(minutes=10)

_NO_TEXT = "(no text)"
# RFC 5321's limit on a forward path, and the size of Identity.value.
MAX_ADDRESS_LENGTH = 254


@dataclass(frozen=True)
class IngestResult:
    """Where an inbound message ended up."""

    message: Message  # the stored message (the existing one for a duplicate)
    case: Case
    thread: Thread
    created_case: bool
    duplicate: bool  # True when (source, external_id) was already stored
    suggested_merge: Case | None  # another open case of the same contact, if any


class UnroutableMessageError(ValueError):
    """The message cannot be stored (an unusable sender, an unknown channel): quarantine it.

    `reason` is the short text to quarantine it with.
    """

    reason = "unroutable"

    def __init__(self, detail: str) -> None:
        # The message starts with the reason, so an adapter quarantining with
        # str(error) files it under the same reason as one using `error.reason`.
        super().__init__(f"{self.reason}: {detail}")
        self.detail = detail


class RateLimitedError(UnroutableMessageError):
    """The sender sent more than RATE_LIMIT messages within RATE_WINDOW (a mail loop)."""

    reason = "rate limit"


def ingest(
    message: InboundMessage, *, team: Team | None = None, enforce_rate_limit: bool = True
) -> IngestResult:
    """Store `message` on the case and thread it continues, or on a new case.

    Idempotent on (source, external_id): a delivery already stored returns the stored
    message with `duplicate=True` and changes nothing. The claim of that key, the
    contact, the case, the message and its Events are written in one transaction, so
    a crash anywhere before commit leaves nothing and a redelivery stores it once.

    Locks, in this order: the receipt key (its unique index), then the case row the
    message goes to. Raises UnroutableMessageError (RateLimitedError for a mail loop)
    for a message to quarantine. A new case goes to `team` (the team a mailbox or a
    number belongs to). `enforce_rate_limit=False` is for an admin re-processing one
    by hand, or an import of an archive.
    """
    if message.channel not in Channel.values:
        raise UnroutableMessageError(f"unknown channel {message.channel!r}")
    message = _fit(message)
    key = idempotency_key(message)
    stored = _stored(message.source, key)
    if stored is not None:
        return _duplicate(stored)
    sender = _sender_address(message.sender)
    if enforce_rate_limit and _is_over_rate_limit(message.channel, sender):
        raise RateLimitedError(f"{sender} sent more than {RATE_LIMIT} messages in {RATE_WINDOW}")
    try:
        result = _store(message, key=key, sender=sender, team=team)
    except IntegrityError:
        # Two deliveries of the same key raced: the loser's claim hit the unique
        # constraint (on PostgreSQL after waiting for the winner to commit), and its
        # whole transaction rolled back, so the winner's message is the one.
        stored = _stored(message.source, key)
        if stored is None:
            raise
        return _duplicate(stored)
    queue_automatic_merges([result])
    return result


def queue_automatic_merges(results: Sequence[IngestResult]) -> None:
    """After commit, merge each new case whose customer's open case belongs to a team that
    merges new cases automatically (it was only suggested when stored).

    A task does the merge, so ingest stays one path whether a mail comes alone or in a
    batch; the task checks the cases again when it runs.
    """
    pairs = [(r.case, r.suggested_merge) for r in results if r.created_case and r.suggested_merge]
    if not pairs:
        return
    merging = set(
        Team.objects.filter(
            merges_new_cases=True, pk__in={other.team_id for _, other in pairs}
        ).values_list("pk", flat=True)
    )
    for case, other in pairs:
        if other.team_id in merging:
            transaction.on_commit(partial(_queue_merge, case.pk, other.pk), robust=True)


def _queue_merge(source_id: int, target_id: int) -> None:
    case_tasks.merge_suggested_case.enqueue(source_id, target_id)


def quarantine(
    raw: bytes,
    *,
    channel: str,
    source: str,
    reason: str,
    external_id: str = "",
    adapter: str = "",
) -> QuarantinedMessage:
    """Keep bytes that did not become a message, exactly as received, for an admin.

    The same unreprocessed (source, external_id) delivered again is kept once.
    """
    if external_id:
        existing = QuarantinedMessage.objects.filter(
            source=source, external_id=external_id, reprocessed_at__isnull=True
        ).first()
        if existing is not None:
            return existing
    return QuarantinedMessage.objects.create(
        channel=channel,
        adapter=adapter,
        source=source,
        external_id=external_id,
        raw=raw,
        reason=reason,
    )


@transaction.atomic
def reprocess(item: QuarantinedMessage) -> IngestResult:
    """Parse a quarantined item again with its channel's parser, and ingest it.

    Bypasses the rate limit: an admin asked for this one. Raises NoParserError, what
    the parser raises, and UnroutableMessageError; the item is then left as it was.
    """
    parse = parsers.parser_for(item.adapter or item.channel)
    result = ingest(parse(bytes(item.raw), item.source), enforce_rate_limit=False)
    item.reprocessed_at = timezone.now()
    item.message = result.message
    item.save(update_fields=["reprocessed_at", "message"])
    return result


def _fit(message: InboundMessage) -> InboundMessage:
    """Drop NUL characters and cut fields to their columns.

    PostgreSQL refuses NUL in text and over-long values, and a broken mail carries
    both; neither is worth losing the message over.
    """
    sender = replace(message.sender, name=_no_nul(message.sender.name)[:200])
    attachments = tuple(replace(a, content_type=a.content_type[:120]) for a in message.attachments)
    return replace(
        message,
        source=message.source[:255],
        external_id=_no_nul(message.external_id)[:255],
        sender=sender,
        subject=" ".join(_no_nul(message.subject).split())[:250],
        text=_no_nul(message.text),
        full_text=_no_nul(message.full_text),
        html=_no_nul(message.html),
        attachments=attachments,
    )


def _no_nul(text: str) -> str:
    return text.replace("\x00", "")


def idempotency_key(message: InboundMessage) -> str:
    """The external id, or the hash of the raw bytes when the channel gave none.

    With neither, every delivery is new: there is nothing to recognise it by.
    """
    if message.external_id:
        return message.external_id[:255]
    if message.raw:
        return "sha256:" + hashlib.sha256(message.raw).hexdigest()
    return "none:" + uuid.uuid4().hex


@transaction.atomic
def _store(message: InboundMessage, *, key: str, sender: str, team: Team | None) -> IngestResult:
    # Claim the key first: a concurrent delivery of the same key blocks here (or
    # fails) before it has locked any case, so the two cannot deadlock on cases.
    receipt = Receipt.objects.create(source=message.source, external_id=key, sender=sender)
    at = timezone.now()
    forwarder = _forwarding_agent(message, sender)
    if forwarder is not None and message.forwarded_from is not None:
        result = _open(message, _contact(message.forwarded_from), at=at, closed=None, team=team)
        cases.add_note(forwarder, result.case, text=_forward_note(forwarder, sender), at=at)
    else:
        result = _route_and_store(message, _contact(message.sender), at=at, team=team)
    receipt.message = result.message
    receipt.save(update_fields=["message"])
    return result


def _route_and_store(
    message: InboundMessage, contact: Contact, *, at: datetime, team: Team | None
) -> IngestResult:
    thread = routing.route(message, contact)
    if thread is None:
        return _open(message, contact, at=at, closed=None, team=team)
    case = _lock_case_of(thread)
    if case.status == Status.CLOSED:
        # Closed is final: the message starts a new case that points back to it.
        return _open(message, contact, at=at, closed=case, team=team)
    stored = cases.receive_message(
        thread,
        text=_text(message),
        html=message.html,
        author=contact,
        attachments=_accepted(message.attachments),
        external_id=message.external_id,
        inbound=_details(message),
        at=at,
    )
    _record_refused(stored, message.attachments)
    return IngestResult(stored, stored.case, thread, False, False, None)


def _lock_case_of(thread: Thread) -> Case:
    """Lock and return the case `thread` belongs to now.

    Locked before its state is read: a close or a merge committed between routing and
    storing must not leave a message on a case that no longer takes it. A merge moves
    the thread, so a merged case is followed by re-reading the thread.
    """
    case = Case.objects.select_for_update().get(pk=thread.case_id)
    if case.is_merged:
        thread.refresh_from_db(fields=["case"])
        case = Case.objects.select_for_update().get(pk=thread.case_id)
    return case


def _open(
    message: InboundMessage,
    contact: Contact,
    *,
    at: datetime,
    closed: Case | None,
    team: Team | None,
) -> IngestResult:
    case = cases.open_case(
        None,
        customer=contact,
        team=team,
        subject=message.subject or _first_line(message.text),
        message_text=_text(message),
        message_html=message.html,
        channel=message.channel,
        attachments=_accepted(message.attachments),
        external_id=message.external_id,
        inbound=_details(message),
        at=at,
    )
    stored = case.messages.select_related("thread").get()
    _record_refused(stored, message.attachments)
    if closed is not None:
        events.follows_closed_case(case, closed=closed, at=at)
    other = routing.other_open_case(contact, besides=case)
    if other is not None:
        events.merge_suggested(case, other=other, at=at)
    return IngestResult(stored, case, stored.thread, True, False, other)


def _stored(source: str, key: str) -> Message | None:
    # Most deliveries are new: ask for the id alone, and load the message only if found.
    message_id = (
        Receipt.objects.filter(source=source, external_id=key, message__isnull=False)
        .values_list("message_id", flat=True)
        .first()
    )
    if message_id is None:
        return None
    return Message.objects.select_related("case", "thread").get(pk=message_id)


def _duplicate(stored: Message) -> IngestResult:
    return IngestResult(stored, stored.case, stored.thread, False, True, None)


def _sender_address(sender: Sender) -> str:
    try:
        address = normalise_identity(sender.kind, sender.value)
    except InvalidIdentityError as error:
        raise UnroutableMessageError(f"unusable sender: {error}") from error
    if len(address) > MAX_ADDRESS_LENGTH:
        raise UnroutableMessageError(f"unusable sender: an address of {len(address)} characters")
    return address


def _contact(sender: Sender) -> Contact:
    try:
        return find_or_create_contact(sender.kind, sender.value, name=sender.name)
    except InvalidIdentityError as error:
        raise UnroutableMessageError(f"unusable sender: {error}") from error


def _is_over_rate_limit(channel: str, sender: str) -> bool:
    # Only email loops (auto-replies answering each other); chat users may be chatty.
    if channel != Channel.EMAIL:
        return False
    since = timezone.now() - RATE_WINDOW
    recent = Receipt.objects.filter(sender=sender, received_at__gte=since)
    return recent.count() >= RATE_LIMIT


def _forwarding_agent(message: InboundMessage, sender: str) -> Agent | None:
    """The agent who forwarded a customer's mail in, if this is such a forward."""
    if message.forwarded_from is None or message.sender.kind != IdentityKind.EMAIL:
        return None
    return Agent.objects.filter(email__iexact=sender, is_active=True).first()


def _forward_note(agent: Agent, sender: str) -> str:
    return f"Forwarded in by {agent} from {sender}; the original sender is the customer."


def _text(message: InboundMessage) -> str:
    # Refused attachments do not count: a mail whose only file was refused still
    # needs a text to be stored as a message.
    if message.text.strip() or message.html.strip() or _accepted(message.attachments):
        return message.text
    return message.full_text.strip() or _NO_TEXT


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:120]


def _details(message: InboundMessage) -> cases.InboundDetails:
    full_text = message.full_text if message.full_text != message.text else ""
    return cases.InboundDetails(
        full_text=full_text,
        raw_file=_store_raw(message.raw),
        is_automated=message.is_automated,
    )


def _store_raw(raw: bytes) -> str:
    """Store the original bytes under their SHA-256; return the storage name.

    Written before the transaction commits: a rollback leaves an orphan file, which
    the retry reuses because the name is the content's hash.
    """
    if not raw:
        return ""
    name = raw_name(raw)
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(raw))
    return name


def raw_name(raw: bytes) -> str:
    """The storage name of a message's original bytes: their SHA-256."""
    digest = hashlib.sha256(raw).hexdigest()
    return f"raw/{digest[:2]}/{digest}"


def _accepted(attachments: tuple[NewAttachment, ...]) -> list[NewAttachment]:
    return [a for a in attachments if _refusal(a) is None]


def _record_refused(stored: Message, attachments: tuple[NewAttachment, ...]) -> None:
    for attachment in attachments:
        reason = _refusal(attachment)
        if reason is not None:
            events.attachment_refused(stored, filename=attachment.filename, reason=reason)


def _refusal(attachment: NewAttachment) -> str | None:
    try:
        check_attachment(attachment)
    except AttachmentRefusedError as error:
        return str(error)
    return None
