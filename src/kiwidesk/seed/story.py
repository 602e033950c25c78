"""An in-memory replay of cases/services.py that yields table rows instead of saving models.

`Story` mirrors the verbs (open_case, open_thread, reply, add_note, receive_message,
update_case) rule for rule: the same Events with the same payloads in the same order,
the same status wake-ups and reopenings, the same `updated_at`, `solved_at`,
`closed_at` and `last_message_at` bookkeeping. Keep it in step with services.py: the
seed tests compare the two on the same script.

Times are whole seconds since the epoch; `Rows.stamp` turns them into the text the
database stores.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from kiwidesk.cases.events import FIELD_EVENTS, MESSAGE_EVENTS
from kiwidesk.cases.models import Channel, Direction, EventKind, Party, Sensitivity, Status
from kiwidesk.pii import detect

DONE = (Status.SOLVED, Status.CLOSED)

# Thread row slots; the row is a list so last_message_at can move as messages arrive.
T_ID, T_CASE, T_PARTY, T_CHANNEL, T_CONTACT, T_SUBJECT, T_CREATED, T_LAST = range(8)


@dataclass(frozen=True)
class Named:
    """An agent or a team as the services display them in an Event payload."""

    id: int
    name: str

    def shown(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class Ids:
    """The next free primary key of each table the stories write."""

    thread: int
    message: int
    event: int


@dataclass
class Rows:
    """Rows ready for executemany, in the column order of `writer.COLUMNS`."""

    stamp_suffix: str = ""
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    threads: list[list[Any]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    case_tags: list[tuple[int, int]] = field(default_factory=list)
    _payloads: dict[Any, str] = field(default_factory=dict)
    _stamps: dict[int, str] = field(default_factory=dict)

    def stamp(self, at: int | None) -> str | None:
        """The stored text of a time; a message and its Event share one, so keep them."""
        if at is None:
            return None
        text = self._stamps.get(at)
        if text is None:
            text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)) + self.stamp_suffix
            self._stamps[at] = text
        return text

    def payload(self, key: Any, build: dict[str, Any]) -> str:
        """JSON text of a payload, cached: a million events share a few dozen shapes."""
        text = self._payloads.get(key)
        if text is None:
            text = json.dumps(build)
            self._payloads[key] = text
        return text

    def clear(self) -> None:
        self.cases.clear()
        self.threads.clear()
        self.messages.clear()
        self.events.clear()
        self.case_tags.clear()
        self._stamps.clear()


def _shown(value: Any) -> Any:
    return value.shown() if isinstance(value, Named) else value


class Story:
    """One case told through the service verbs, writing rows into `rows`."""

    def __init__(self, rows: Rows, ids: Ids, *, case_id: int, customer_id: int) -> None:
        self.rows = rows
        self.ids = ids
        self.case_id = case_id
        self.customer_id = customer_id
        self.fields: dict[str, Any] = {}
        self.status: str = Status.NEW
        self.created_at = 0
        self.updated_at = 0
        self.solved_at: int | None = None
        self.closed_at: int | None = None
        self.internal: list[Any] | None = None
        self.messages = 0

    def open(
        self,
        actor: Named | None,
        *,
        at: int,
        subject: str,
        text: str,
        channel: str,
        fields: dict[str, Any],
    ) -> list[Any]:
        """open_case: the case, its case_opened Event, the customer thread and first message."""
        self.fields = dict(fields, subject=subject, channel=channel)
        self.status = Status.OPEN if fields.get("assignee") else Status.NEW
        self.created_at = self.updated_at = at
        opened = {
            "channel": channel,
            "status": self.status,
            "priority": fields["priority"],
            "sensitivity": fields["sensitivity"],
            "category": fields["category"],
            "team": _shown(fields["team"]),
            "assignee": _shown(fields["assignee"]),
        }
        key = ("opened", *(str(value) for value in opened.values()))
        self._event(EventKind.CASE_OPENED, actor, at, self.rows.payload(key, opened))
        thread = self._thread(Party.CUSTOMER, channel, self.customer_id, subject, at)
        self._message(thread, actor, Direction.INBOUND, text, at, contact=self.customer_id)
        return thread

    def open_thread(
        self, actor: Named, *, contact_id: int, channel: str, subject: str, at: int
    ) -> list[Any]:
        thread = self._thread(Party.THIRD_PARTY, channel, contact_id, subject, at)
        key = ("thread", Party.THIRD_PARTY, channel)
        payload = self.rows.payload(key, {"party": Party.THIRD_PARTY, "channel": channel})
        self._event(EventKind.THREAD_OPENED, actor, at, payload, thread_id=thread[T_ID])
        self._touch(at)
        return thread

    def reply(self, actor: Named, thread: list[Any], *, text: str, at: int) -> None:
        self._message(thread, actor, Direction.OUTBOUND, text, at, agent=actor)
        self._start_work(actor, at)

    def note(self, actor: Named, *, text: str, at: int) -> None:
        if self.internal is None:
            self.internal = self._thread(
                Party.INTERNAL, Channel.INTERNAL, None, "Internal notes", at
            )
        self._message(self.internal, actor, Direction.NOTE, text, at, agent=actor)
        self._start_work(actor, at)

    def receive(self, thread: list[Any], *, text: str, at: int) -> None:
        self._message(thread, None, Direction.INBOUND, text, at, contact=thread[T_CONTACT])
        woken = self._status_after_inbound(thread[T_PARTY])
        if woken is not None:
            self._change_status(None, woken, at)

    def update(self, actor: Named | None, changes: list[tuple[str, Any]], *, at: int) -> None:
        """update_case: one Event per field that really changes, then touch the case."""
        for name, value in changes:
            if name == "status":
                self._change_status(actor, value, at)
            else:
                self._change_field(actor, name, value, at)
        self._touch(at)

    def case_row(self) -> tuple[Any, ...]:
        f = self.fields
        stamp = self.rows.stamp
        assignee, team = f.get("assignee"), f.get("team")
        return (
            self.case_id,
            f["subject"],
            self.status,
            f["priority"],
            f["category"],
            f["sensitivity"],
            self.customer_id,
            assignee.id if assignee else None,
            team.id if team else None,
            f["channel"],
            stamp(f.get("due_at")),
            None,
            stamp(self.created_at),
            stamp(self.updated_at),
            stamp(self.solved_at),
            stamp(self.closed_at),
        )

    def _thread(
        self, party: str, channel: str, contact_id: int | None, subject: str, at: int
    ) -> list[Any]:
        thread_id = self.ids.thread
        self.ids.thread += 1
        thread = [thread_id, self.case_id, party, channel, contact_id, subject, at, None]
        self.rows.threads.append(thread)
        return thread

    def _message(
        self,
        thread: list[Any],
        actor: Named | None,
        direction: str,
        text: str,
        at: int,
        *,
        agent: Named | None = None,
        contact: int | None = None,
    ) -> None:
        message_id = self.ids.message
        self.ids.message += 1
        self.messages += 1
        inbound = direction == Direction.INBOUND
        delivery = "" if direction != Direction.OUTBOUND else _delivered(thread[T_CHANNEL])
        self.rows.messages.append(
            (
                message_id,
                self.case_id,
                thread[T_ID],
                direction,
                agent.id if agent else None,
                contact,
                text,
                "",
                f"seed-{message_id}" if inbound else "",
                "",  # full_text: seeded text has no quotes to strip
                "",  # raw_file: nothing arrived on a wire
                False,  # is_automated
                Sensitivity.NORMAL,
                [[found.type, found.start, found.end] for found in detect(text)],
                delivery,
                self.rows.stamp(at),
            )
        )
        thread[T_LAST] = at
        party, channel = thread[T_PARTY], thread[T_CHANNEL]
        payload = self.rows.payload(
            ("message", party, channel), {"party": party, "channel": channel}
        )
        self._event(
            MESSAGE_EVENTS[direction],
            actor,
            at,
            payload,
            thread_id=thread[T_ID],
            message_id=message_id,
        )
        self._touch(at)

    def _event(
        self,
        kind: str,
        actor: Named | None,
        at: int,
        payload: str,
        *,
        thread_id: int | None = None,
        message_id: int | None = None,
    ) -> None:
        event_id = self.ids.event
        self.ids.event += 1
        self.rows.events.append(
            (
                event_id,
                self.case_id,
                kind,
                actor.id if actor else None,
                thread_id,
                message_id,
                payload,
                self.rows.stamp(at),
            )
        )

    def _touch(self, at: int) -> None:
        self.updated_at = max(self.updated_at, at)

    def _start_work(self, actor: Named, at: int) -> None:
        if self.status == Status.NEW:
            self._change_status(actor, Status.OPEN, at)

    def _status_after_inbound(self, party: str) -> str | None:
        if self.status == Status.SOLVED:
            return Status.OPEN
        if self.status == Status.PENDING_CUSTOMER and party == Party.CUSTOMER:
            return Status.OPEN
        if self.status == Status.PENDING_THIRD_PARTY and party == Party.THIRD_PARTY:
            return Status.OPEN
        return None

    def _change_status(self, actor: Named | None, status: str, at: int) -> None:
        previous = self.status
        if status == previous:
            return
        self.status = status
        if status == Status.SOLVED:
            self.solved_at = at
        if status == Status.CLOSED:
            self.closed_at = at
        if previous in DONE and status not in DONE:
            self.solved_at = self.closed_at = None
            payload = self.rows.payload(("reopened", previous), {"previous_status": previous})
            self._event(EventKind.CASE_REOPENED, actor, at, payload)
        self.updated_at = max(self.updated_at, at)
        payload = self.rows.payload(("status", previous, status), {"old": previous, "new": status})
        self._event(EventKind.STATUS_CHANGED, actor, at, payload)

    def _change_field(self, actor: Named | None, name: str, value: Any, at: int) -> None:
        previous = self.fields.get(name)
        if previous == value:
            return
        self.fields[name] = value
        if name == "due_at":
            old, new = _iso(previous), _iso(value)
            payload = json.dumps({"old": old, "new": new})
        else:
            key = ("field", name, previous, value)
            payload = self.rows.payload(key, {"old": _shown(previous), "new": _shown(value)})
        self._event(FIELD_EVENTS[name], actor, at, payload)


def _delivered(channel: str) -> str:
    """Seeded outbound messages went out long ago: never leave them pending for a sender."""
    return "delivered" if channel in (Channel.WHATSAPP, Channel.SMS) else "sent"


def _iso(at: int | None) -> str | None:
    if at is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at))
