"""One constructor per Event kind. Services call these inside their own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import (
    Attachment,
    Call,
    Case,
    Direction,
    Event,
    EventKind,
    Message,
    Thread,
)

# The Event kind each message direction and each changed case field writes.
MESSAGE_EVENTS: dict[str, str] = {
    Direction.INBOUND: EventKind.MESSAGE_RECEIVED,
    Direction.OUTBOUND: EventKind.MESSAGE_SENT,
    Direction.NOTE: EventKind.NOTE_ADDED,
}
FIELD_EVENTS: dict[str, str] = {
    "subject": EventKind.SUBJECT_CHANGED,
    "status": EventKind.STATUS_CHANGED,
    "priority": EventKind.PRIORITY_CHANGED,
    "category": EventKind.CATEGORY_CHANGED,
    "sensitivity": EventKind.SENSITIVITY_CHANGED,
    "assignee": EventKind.ASSIGNED,
    "team": EventKind.TEAM_CHANGED,
    "due_at": EventKind.DUE_CHANGED,
}


def _record(
    case: Case,
    kind: str,
    actor: Agent | None,
    *,
    at: datetime,
    thread: Thread | None = None,
    message: Message | None = None,
    **payload: Any,
) -> Event:
    return Event.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        thread=thread,
        message=message,
        payload=payload,
        created_at=at,
    )


def case_opened(case: Case, actor: Agent | None, *, at: datetime) -> Event:
    """Record the case as it started, so clocks and metrics can be rebuilt from events."""
    return _record(
        case,
        EventKind.CASE_OPENED,
        actor,
        at=at,
        channel=case.channel,
        status=case.status,
        priority=case.priority,
        sensitivity=case.sensitivity,
        category=case.category,
        team=shown(case.team),
        assignee=shown(case.assignee),
    )


def shown(value: Agent | Team | None) -> dict[str, Any] | None:
    """An agent or a team as an Event payload keeps it: id and the name at the time."""
    if value is None:
        return None
    return {"id": value.pk, "name": str(value)}


def thread_opened(case: Case, actor: Agent | None, thread: Thread, *, at: datetime) -> Event:
    return _record(
        case,
        EventKind.THREAD_OPENED,
        actor,
        at=at,
        thread=thread,
        party=thread.party,
        channel=thread.channel,
    )


def message_added(case: Case, actor: Agent | None, message: Message) -> Event:
    """Record a message on the timeline: received, sent or a note, by its direction."""
    kind = MESSAGE_EVENTS[message.direction]
    return _record(
        case,
        kind,
        actor,
        at=message.created_at,
        thread=message.thread,
        message=message,
        party=message.thread.party,
        channel=message.thread.channel,
    )


def field_changed(
    case: Case, actor: Agent | None, kind: str, *, old: Any, new: Any, at: datetime
) -> Event:
    """Record a change of one case field; old and new are stored as displayable values."""
    return _record(case, kind, actor, at=at, old=old, new=new)


def case_reopened(case: Case, actor: Agent | None, *, previous_status: str, at: datetime) -> Event:
    return _record(case, EventKind.CASE_REOPENED, actor, at=at, previous_status=previous_status)


def case_merged(target: Case, actor: Agent | None, *, source: Case, at: datetime) -> Event:
    return _record(
        target,
        EventKind.CASE_MERGED,
        actor,
        at=at,
        source_id=source.pk,
        source_subject=source.subject,
    )


def merged_into(source: Case, actor: Agent | None, *, target: Case, at: datetime) -> Event:
    return _record(source, EventKind.MERGED_INTO, actor, at=at, target_id=target.pk)


def merge_suggested(case: Case, *, other: Case, at: datetime) -> Event:
    """Record that the customer already has another open case this one may belong to."""
    return _record(
        case,
        EventKind.MERGE_SUGGESTED,
        None,
        at=at,
        other_case_id=other.pk,
        other_subject=other.subject,
    )


def follows_closed_case(case: Case, *, closed: Case, at: datetime) -> Event:
    """Record that this case was opened by a message for a case already closed."""
    return _record(
        case,
        EventKind.FOLLOWS_CLOSED_CASE,
        None,
        at=at,
        closed_case_id=closed.pk,
        closed_subject=closed.subject,
    )


def delivery_updated(
    message: Message,
    *,
    previous: str,
    status: str,
    error: str,
    at: datetime,
    retry_at: datetime | None = None,
    attempt: int = 0,
) -> Event:
    """Record how far a sent message has come (sent, delivered, read, failed).

    A failed attempt that will be tried again goes back to pending with its
    `attempt` number and `retry_at`, so the agent sees why it has not gone yet.
    """
    retry = {"retry_at": retry_at.isoformat(), "attempt": attempt} if retry_at else {}
    return _record(
        message.case,
        EventKind.DELIVERY_UPDATED,
        None,
        at=at,
        thread=message.thread,
        message=message,
        previous=previous,
        status=status,
        error=error,
        **retry,
    )


def attachment_refused(message: Message, *, filename: str, reason: str) -> Event:
    """Record an attachment that arrived with a message but was not stored, and why."""
    return _record(
        message.case,
        EventKind.ATTACHMENT_REFUSED,
        None,
        at=message.created_at,
        thread=message.thread,
        message=message,
        filename=filename,
        reason=reason,
    )


def call_logged(call: Call, actor: Agent | None) -> Event:
    """Record a call on its thread: which way, how it ended, how long, and whether it
    reached the party (metrics must not count a call nobody answered as a reply).

    The numbers stay on the Call row: events are kept for ever, personal data is not.
    """
    message = call.message
    return _record(
        message.case,
        EventKind.CALL_LOGGED,
        actor,
        at=message.created_at,
        thread=message.thread,
        message=message,
        direction=message.direction,
        party=message.thread.party,
        outcome=call.outcome,
        duration_seconds=call.duration_seconds,
        reached_party=call.reached_party,
    )


def recording_attached(call: Call, recording: Attachment, *, at: datetime) -> Event:
    return _record(
        call.message.case,
        EventKind.RECORDING_ATTACHED,
        None,
        at=at,
        thread=call.message.thread,
        message=call.message,
        recording_sid=call.recording_sid,
        attachment_id=recording.pk,
        size=recording.size,
    )


def transcript_attached(call: Call, *, at: datetime) -> Event:
    return _record(
        call.message.case,
        EventKind.TRANSCRIPT_ATTACHED,
        None,
        at=at,
        thread=call.message.thread,
        message=call.message,
        characters=len(call.transcript),
    )


def chat_ended(
    thread: Thread, *, reason: str, transcript_to: str, messages: int, at: datetime
) -> Event:
    """Record that a web chat visitor left (or went quiet), and where the transcript went."""
    return _record(
        thread.case,
        EventKind.CHAT_ENDED,
        None,
        at=at,
        thread=thread,
        reason=reason,
        transcript_to=transcript_to,
        messages=messages,
    )


def sla_warning(
    case: Case,
    *,
    metric: str,
    clock: str,
    due_at: datetime,
    actions: list[str],
    thread: Thread | None,
    at: datetime,
) -> Event:
    """Record that a clock comes close to its due instant (the policy's warning)."""
    return _record(
        case,
        EventKind.SLA_WARNING,
        None,
        at=at,
        thread=thread,
        metric=metric,
        clock=clock,
        due_at=due_at.isoformat(),
        actions=actions,
    )


def sla_breached(
    case: Case,
    *,
    metric: str,
    clock: str,
    due_at: datetime,
    actions: list[str],
    thread: Thread | None,
    at: datetime,
) -> Event:
    """Record that a clock passed its due instant, and what the policy did about it."""
    return _record(
        case,
        EventKind.SLA_BREACHED,
        None,
        at=at,
        thread=thread,
        metric=metric,
        clock=clock,
        due_at=due_at.isoformat(),
        actions=actions,
    )


def follow_up_sent(message: Message, *, due_at: datetime, reminder: int, limit: int) -> Event:
    """Record the automated reminder a follow-up clock owed at `due_at` (number `reminder`)."""
    return _record(
        message.case,
        EventKind.FOLLOW_UP_SENT,
        None,
        at=message.created_at,
        thread=message.thread,
        message=message,
        metric="follow_up",
        due_at=due_at.isoformat(),
        reminder=reminder,
        limit=limit,
    )


def follow_up_refused(
    case: Case,
    *,
    thread: Thread | None,
    due_at: datetime,
    what: str,
    reason: str,
    at: datetime,
) -> Event:
    """Record that `what` (a reminder, the solve notice) owed at `due_at` did not go, and why."""
    return _record(
        case,
        EventKind.FOLLOW_UP_REFUSED,
        None,
        at=at,
        thread=thread,
        metric="follow_up",
        due_at=due_at.isoformat(),
        what=what,
        reason=reason,
    )


def solved_after_follow_ups(message: Message, *, due_at: datetime, reminders: int) -> Event:
    """Record that the case was solved with its notice after `reminders` went unanswered."""
    return _record(
        message.case,
        EventKind.SOLVED_AFTER_FOLLOW_UPS,
        None,
        at=message.created_at,
        thread=message.thread,
        message=message,
        metric="follow_up",
        due_at=due_at.isoformat(),
        reminders=reminders,
    )


def break_glass(
    case: Case, agent: Agent, *, reason: str, expires_at: datetime, at: datetime
) -> Event:
    """Record that `agent` opened the case above their clearance, why, and until when."""
    return _record(
        case,
        EventKind.BREAK_GLASS,
        agent,
        at=at,
        reason=reason,
        expires_at=expires_at.isoformat(),
    )


def message_sensitivity_changed(message: Message, actor: Agent, *, old: str, at: datetime) -> Event:
    """Record that a message was marked more (or less) sensitive than before."""
    return _record(
        message.case,
        EventKind.MESSAGE_SENSITIVITY_CHANGED,
        actor,
        at=at,
        thread=message.thread,
        message=message,
        old=old,
        new=message.sensitivity,
    )
