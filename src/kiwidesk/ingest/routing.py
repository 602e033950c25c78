"""Find the thread an inbound message continues, or None when it starts a new case.

Reads only: the caller locks the chosen case and decides what a closed case means.
"""

from __future__ import annotations

import re

from django.db.models import F

from kiwidesk.cases.models import OPEN_STATUSES, Case, Channel, Message, Party, Thread
from kiwidesk.contacts.models import Contact
from kiwidesk.ingest.contract import InboundMessage

# "[#123]" or "[KD-123]" in a subject names case 123.
_SUBJECT_TOKEN = re.compile(r"\[(?:#|KD-)(\d{1,18})\]", re.IGNORECASE)


def route(message: InboundMessage, sender: Contact) -> Thread | None:
    """Return the thread `message` continues, or None when it opens a new case.

    Email tries, in order: its In-Reply-To and References headers, a reply token, a
    subject token (only when `sender` already takes part in that case). Other
    channels try the reply token, then the sender's open conversation on the channel.
    """
    thread = by_headers(message, sender) or by_reply_token(message.reply_token)
    if thread is not None:
        return thread
    if message.channel == Channel.EMAIL:
        return by_subject_token(message.subject, sender)
    return open_conversation(message.channel, sender)


def by_headers(message: InboundMessage, sender: Contact) -> Thread | None:
    """The thread of the newest stored message the headers refer to (inbound or outbound)."""
    wanted = _referenced_ids(message)
    if not wanted:
        return None
    found = {
        stored.external_id: stored.thread
        for stored in Message.objects.filter(external_id__in=wanted).select_related("thread")
    }
    for external_id in wanted:
        if external_id in found:
            return _sender_thread(found[external_id], sender, message.channel)
    return None


def by_reply_token(token: str) -> Thread | None:
    token = token.strip().lower()
    if not token:
        return None
    return Thread.objects.filter(reply_token=token).first()


def by_subject_token(subject: str, sender: Contact) -> Thread | None:
    """The sender's thread on the case the subject names; None for anyone not on that case.

    A subject token is easy to forge, so it only counts for the case's customer or a
    party of one of its threads.
    """
    match = _SUBJECT_TOKEN.search(subject)
    if match is None:
        return None
    case = Case.objects.filter(pk=int(match.group(1))).first()
    if case is None:
        return None
    return _own_thread(current_case(case), sender, Channel.EMAIL)


def open_conversation(channel: str, sender: Contact) -> Thread | None:
    """The sender's most recent thread on `channel` whose case is still open."""
    return (
        Thread.objects.filter(
            channel=channel,
            contact=sender,
            case__status__in=OPEN_STATUSES,
            case__merged_into__isnull=True,
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-id")
        .first()
    )


def other_open_case(customer: Contact, *, besides: Case) -> Case | None:
    """Another open case of the same customer, the most recently active one."""
    return (
        Case.objects.filter(customer=customer, status__in=OPEN_STATUSES, merged_into__isnull=True)
        .exclude(pk=besides.pk)
        .order_by("-updated_at", "-id")
        .first()
    )


def current_case(case: Case) -> Case:
    """Follow merges to the case that now holds this one's threads."""
    seen = {case.pk}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = Case.objects.get(pk=case.merged_into_id)
    return case


def _referenced_ids(message: InboundMessage) -> list[str]:
    """Message-IDs the message answers, the most direct first."""
    candidates = [message.in_reply_to, *reversed(message.references)]
    return list(dict.fromkeys(c.strip() for c in candidates if c.strip()))


def _sender_thread(referenced: Thread, sender: Contact, channel: str) -> Thread:
    """Prefer the sender's own thread on the referenced case.

    A third party answering a mail the customer was copied on must land on the
    third-party thread, never the customer's, and the reverse.
    """
    if referenced.contact_id == sender.pk:
        return referenced
    own = _own_thread(referenced.case, sender, channel)
    if own is not None:
        return own
    if referenced.party != Party.INTERNAL:
        return referenced
    # Notes are never sent, so an answer "to" one belongs with the customer, not the agents.
    customer = Thread.objects.filter(case=referenced.case_id, party=Party.CUSTOMER).first()
    return customer or referenced


def _own_thread(case: Case, sender: Contact, channel: str) -> Thread | None:
    """The sender's thread on `case`, on `channel` if they have one there."""
    threads = Thread.objects.filter(case=case, contact=sender).exclude(party=Party.INTERNAL)
    ordered = threads.order_by(F("last_message_at").desc(nulls_last=True), "-id")
    return ordered.filter(channel=channel).first() or ordered.first()
