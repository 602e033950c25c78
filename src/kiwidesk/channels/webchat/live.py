"""What an agent's case page shows of a chat while it runs: its state and the visitor's news.

The page polls every few seconds, so a poll costs one indexed read of the session row
(joined to its thread, to check the case); the entries are read only when the
session's `last_entry_id` moved. Nothing here holds a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Max

from kiwidesk.cases.models import Direction, Message, Thread
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession


@dataclass(frozen=True)
class ChatState:
    """A chat thread as the case page shows it: who the visitor says they are, and the poll."""

    session_id: int
    is_live: bool
    confirmed_email: str
    unconfirmed_email: str
    # The newest entry the page already shows: the first poll asks for what came after.
    shown_entry_id: int


@dataclass(frozen=True)
class LiveNews:
    """What a poll found: the visitor's new messages, the new cursor, whether it ended."""

    session_id: int
    is_live: bool
    last_entry_id: int
    confirmed_email: str
    messages: list[Message] = field(default_factory=list)


def chat_state(thread: Thread, *, shown_message_ids: list[int]) -> ChatState | None:
    """The latest chat of `thread`, or None for a thread no chat wrote on.

    `shown_message_ids` are the messages the page lists; the cursor is the newest
    entry among them. Entries of a session commit in id order, so every entry after
    it is one the page does not show yet.
    """
    session = services.latest_session(thread)
    if session is None:
        return None
    shown = ChatEntry.objects.filter(session=session, message_id__in=shown_message_ids)
    return ChatState(
        session_id=session.pk,
        is_live=not session.has_ended,
        confirmed_email=session.email,
        unconfirmed_email=verification.unconfirmed_claim(session),
        shown_entry_id=shown.aggregate(newest=Max("id"))["newest"] or 0,
    )


def visitor_news(*, case_id: int, session_id: int, after: int) -> LiveNews | None:
    """The visitor's messages after entry `after`, or None if the chat is not on the case.

    The same row says whether the visitor has confirmed an address meanwhile.
    """
    row = (
        ChatSession.objects.filter(pk=session_id, thread__case_id=case_id)
        .values_list("last_entry_id", "ended_at", "email")
        .first()
    )
    if row is None:
        return None
    last_entry_id, ended_at, confirmed_email = row
    entries: list[ChatEntry] = []
    if last_entry_id > after:
        # Agents' replies are read too, only to move the cursor past them: the page
        # shows a reply already (the composer reloads it), not when the stream took it.
        entries = list(
            ChatEntry.objects.filter(session_id=session_id, pk__gt=after)
            .select_related("message__author_contact", "message__thread__contact")
            .order_by("pk")
        )
    return LiveNews(
        session_id=session_id,
        is_live=ended_at is None,
        last_entry_id=max([after, *(entry.pk for entry in entries)]),
        confirmed_email=confirmed_email,
        messages=[e.message for e in entries if e.message.direction == Direction.INBOUND],
    )
