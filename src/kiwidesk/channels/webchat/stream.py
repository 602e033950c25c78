"""Server-Sent Events for the visitor: the chat's entries, resumable by Last-Event-ID.

A stream is bounded: it polls the session row (one primary-key read) every
POLL_SECONDS, ends after STREAM_SECONDS, and the browser's EventSource reconnects with
the last id it saw. So a stream never holds a database transaction (every read is in
autocommit) and never pins one of the web server's few threads for long. At most
KIWIDESK_CHAT_MAX_STREAMS streams wait at once per process; any more answer at once
with what is new and ask the browser to come back a little later (short polling).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from kiwidesk.cases.models import DeliveryStatus, Direction
from kiwidesk.cases.services import record_delivery
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession

STREAM_SECONDS = 25.0
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0
# How soon the browser reconnects (ms): at once after a waiting stream ends, a little
# later when the server had no free stream to give it.
RETRY_MS = 500
BUSY_RETRY_MS = 3000


class StreamSlots:
    """A count of the streams waiting in this process, with a limit read at each call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def take(self, limit: int) -> bool:
        with self._lock:
            if self.open >= limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


SLOTS = StreamSlots()


@dataclass(frozen=True)
class Clock:
    """Time for a stream; tests pass one that advances without sleeping."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def stream(session_id: int, *, after: int, clock: Clock | None = None) -> Iterator[str]:
    """The SSE text for one connection: waits for new entries if a slot is free."""
    # The slot is taken inside the generator: a response closed before it started
    # never runs its `finally`, so a slot taken outside could leak.
    waits = SLOTS.take(settings.KIWIDESK_CHAT_MAX_STREAMS)
    try:
        seconds = STREAM_SECONDS if waits else 0.0
        retry_ms = RETRY_MS if waits else BUSY_RETRY_MS
        yield from chat_events(
            session_id, after=after, seconds=seconds, retry_ms=retry_ms, clock=clock or Clock()
        )
    finally:
        if waits:
            SLOTS.give_back()


def chat_events(
    session_id: int, *, after: int, seconds: float, retry_ms: int, clock: Clock
) -> Iterator[str]:
    """Entries after `after` as SSE events, then new ones until `seconds` have passed.

    Ends with an `ended` event when the session has ended (the widget then stops
    reconnecting). An outbound message written to the stream is marked delivered.
    """
    yield f"retry: {retry_ms}\n\n"
    started = clock.now()
    last_beat = started
    while True:
        try:
            has_ended, news = _poll(session_id, after)
        except OperationalError:
            # A busy database (a locked SQLite file) costs this poll, not the stream.
            has_ended, news = False, []
        if has_ended is None:
            return
        for entry in news:
            yield format_entry(entry)
            _mark_delivered(entry)
            after = entry.pk
        if has_ended:
            yield "event: ended\ndata: {}\n\n"
            return
        if clock.now() - started >= seconds:
            return
        if clock.now() - last_beat >= HEARTBEAT_SECONDS:
            # A comment: it keeps proxies from timing out and shows a gone client early.
            yield ": beat\n\n"
            last_beat = clock.now()
        clock.sleep(POLL_SECONDS)


def format_entry(entry: ChatEntry) -> str:
    """One entry as an SSE `message` event; the id lets a reconnect resume after it."""
    data = json.dumps(entry_data(entry), ensure_ascii=False)
    return f"id: {entry.pk}\ndata: {data}\n\n"


def entry_data(entry: ChatEntry) -> dict[str, object]:
    """What the widget shows of one message (text only: it is set with textContent)."""
    message = entry.message
    is_visitor = message.direction == Direction.INBOUND
    author = "You"
    if not is_visitor:
        author = message.author_agent.name if message.author_agent else "Support"
    return {
        "id": entry.pk,
        "from": "visitor" if is_visitor else "agent",
        "author": author,
        "text": message.body_text,
        "at": message.created_at.isoformat(),
    }


def parse_event_id(value: str) -> int:
    """A Last-Event-ID or `after` value as an entry id; ValueError for anything else."""
    value = value.strip()
    if not value:
        return 0
    if not value.isdigit() or len(value) > 18:
        raise ValueError(f"{value[:40]!r} is not an event id")
    return int(value)


def _poll(session_id: int, after: int) -> tuple[bool | None, list[ChatEntry]]:
    """Whether the session has ended (None: it is gone), and its entries after `after`."""
    row = ChatSession.objects.filter(pk=session_id).values_list("last_entry_id", "ended_at").first()
    if row is None:
        return None, []
    last_entry_id, ended_at = row
    news = _entries_after(session_id, after) if last_entry_id > after else []
    return ended_at is not None, news


def _entries_after(session_id: int, after: int) -> list[ChatEntry]:
    return list(
        ChatEntry.objects.filter(session_id=session_id, pk__gt=after)
        .select_related("message", "message__author_agent", "message__case", "message__thread")
        .order_by("pk")
    )


def _mark_delivered(entry: ChatEntry) -> None:
    message = entry.message
    if message.direction != Direction.OUTBOUND or message.delivery_status != DeliveryStatus.SENT:
        return
    # Best effort: the visitor has the message; a busy database leaves the mark to a
    # later stream.
    with contextlib.suppress(OperationalError):
        record_delivery(message, DeliveryStatus.DELIVERED, at=timezone.now())
