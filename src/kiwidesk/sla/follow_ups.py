"""Follow-up cadence: the reminders a case waiting on its customer is owed, then the solve.

The `follow_up` clock (sla.metrics.follow_up_runs) says when a reminder is owed: its
due instant. When that comes, the clock's breach timer (sla.timers) claims the row and
calls `follow_up` in the same transaction instead of recording a breach: a reminder
coming due is the cadence working, not a broken promise. It sends the policy's
reminder, automated, on the customer thread the last message went out on, or, after
the policy's last reminder, its solve notice and solves the case. The message is one
more automated message to the customer, which starts the next cycle (or, after the
last one, none: the policy's limit reaches the derivation through `Targets`).

A channel that refuses (WhatsApp after the customer's 24-hour window) leaves an Event
saying why; the claim is spent, so it is not tried again, and the cadence stops there
until an agent writes or the customer does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Q

from kiwidesk.cases import events
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import (
    Case,
    Channel,
    Direction,
    Event,
    EventKind,
    Message,
    Party,
    Status,
    Thread,
)
from kiwidesk.sla.models import Clock, Policy

# A reminder sent this soon after its due instant is booked at that instant: the
# cadence then stays every N hours, and the cycle it ends reads achieved. One sent
# later (no worker ran) is booked when it went, and its cycle reads breached.
ON_TIME = timedelta(minutes=1)
# Every Event a follow-up firing records, each with the due instant it was for.
KINDS = (
    EventKind.FOLLOW_UP_SENT,
    EventKind.FOLLOW_UP_REFUSED,
    EventKind.SOLVED_AFTER_FOLLOW_UPS,
)
# Channels a reminder cannot go out on: a call is logged, not sent.
_NOT_WRITTEN = (Channel.PHONE, Channel.INTERNAL)


class Outcome(StrEnum):
    REMINDED = "reminded"
    SOLVED = "solved"
    REFUSED = "refused"
    NOTHING = "nothing"


def follow_up(clock: Clock, *, due_at: datetime, now: datetime) -> Outcome:
    """Send the reminder `clock` owes at `due_at`, or after the last one solve the case.

    Called inside the firing's transaction, after its claim: at most once per clock and
    due instant. Sends nothing for a clock that stopped or a case no longer waiting on
    its customer (a recompute that has not run yet).
    """
    # Locked before its status is read: a customer's message stored meanwhile (which
    # locks the case too) is either seen here, or opens the case after the reminder.
    case = Case.objects.select_for_update().get(pk=clock.case_id)
    if clock.stopped_at is not None or case.status != Status.PENDING_CUSTOMER:
        return Outcome.NOTHING
    policy: Policy = clock.policy
    sent = reminders_sent(case)
    if sent < policy.follow_up_limit:
        return _remind(case, policy, sent=sent, due_at=due_at, now=now)
    if policy.solves_after_follow_ups:
        return _solve(case, policy, sent=sent, due_at=due_at, now=now)
    return Outcome.NOTHING


def already_handled(case_id: int, due_at: datetime) -> bool:
    """Whether a firing for this due instant left its Event (its claim went with a recompute)."""
    return Event.objects.filter(
        case_id=case_id, kind__in=KINDS, payload__due_at=due_at.isoformat()
    ).exists()


def reminders_sent(case: Case) -> int:
    """The automated messages to the customer since the case last became pending-customer."""
    since = _pending_since(case)
    return Message.objects.filter(
        case=case,
        direction=Direction.OUTBOUND,
        is_automated=True,
        thread__party=Party.CUSTOMER,
        created_at__gte=since,
    ).count()


def _pending_since(case: Case) -> datetime:
    became_pending = Q(kind=EventKind.STATUS_CHANGED, payload__new=Status.PENDING_CUSTOMER) | Q(
        kind=EventKind.CASE_OPENED, payload__status=Status.PENDING_CUSTOMER
    )
    latest = (
        Event.objects.filter(became_pending, case=case)
        .order_by("-created_at", "-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return latest or case.created_at


def customer_thread(case: Case) -> Thread | None:
    """The customer thread our last written message went out on, else the first one."""
    written = Message.objects.filter(
        case=case, direction=Direction.OUTBOUND, thread__party=Party.CUSTOMER
    ).exclude(thread__channel__in=_NOT_WRITTEN)
    last = written.order_by("-created_at", "-pk").select_related("thread").first()
    if last is not None:
        return last.thread
    threads = case.threads.filter(party=Party.CUSTOMER).exclude(channel__in=_NOT_WRITTEN)
    return threads.order_by("created_at", "pk").first()


def _booked_at(due_at: datetime, now: datetime) -> datetime:
    return due_at if due_at <= now <= due_at + ON_TIME else now


def _remind(case: Case, policy: Policy, *, sent: int, due_at: datetime, now: datetime) -> Outcome:
    message = _send(case, policy.follow_up_message, "reminder", due_at=due_at, now=now)
    if message is None:
        return Outcome.REFUSED
    events.follow_up_sent(message, due_at=due_at, reminder=sent + 1, limit=policy.follow_up_limit)
    return Outcome.REMINDED


def _solve(case: Case, policy: Policy, *, sent: int, due_at: datetime, now: datetime) -> Outcome:
    # Without its notice the customer would find the case solved with no word: it
    # stays pending, with the refusal on its timeline, for an agent to decide.
    message = _send(case, policy.solve_notice, "solve notice", due_at=due_at, now=now)
    if message is None:
        return Outcome.REFUSED
    cases.update_case(None, case, {"status": Status.SOLVED}, at=message.created_at)
    events.solved_after_follow_ups(message, due_at=due_at, reminders=sent)
    return Outcome.SOLVED


def _send(case: Case, text: str, what: str, *, due_at: datetime, now: datetime) -> Message | None:
    """Send `text` automated to the customer, or record why it could not go (None)."""
    thread = customer_thread(case)
    if thread is None:
        reason = "The case has no customer thread to write on."
        events.follow_up_refused(case, thread=None, due_at=due_at, what=what, reason=reason, at=now)
        return None
    try:
        return cases.send_automated(thread, text=text, at=_booked_at(due_at, now))
    except ValueError as refusal:
        # The channel's refusal (a closed WhatsApp window, no number) or an empty text;
        # send_automated's savepoint already took back whatever it wrote.
        reason = str(refusal)
    events.follow_up_refused(case, thread=thread, due_at=due_at, what=what, reason=reason, at=now)
    return None
