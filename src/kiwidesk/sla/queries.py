"""Reads of the clocks a case owes, for the case page and the API: what each is called,
how urgent it is, and how long is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Case as Conditional
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from kiwidesk.cases.models import Case
from kiwidesk.sla import calendar as business_time
from kiwidesk.sla.metrics import Metric, State
from kiwidesk.sla.models import Clock, Target

METRIC_NAMES = {
    Metric.FIRST_REPLY: "First reply",
    Metric.NEXT_REPLY: "Next reply",
    Metric.PERIODIC_UPDATE: "Periodic update",
    Metric.PAUSABLE_UPDATE: "Pausable update",
    Metric.CUSTOMER_WAIT: "Customer wait time",
    Metric.AGENT_WORK: "Agent work time",
    Metric.RESOLUTION: "Resolution",
    Metric.TEAM_OWNERSHIP: "Team ownership",
    Metric.THIRD_PARTY_RESPONSE: "Third-party response",
    Metric.FOLLOW_UP: "Follow-up cadence",
}
# Under this share of its target left, a running clock is at risk.
AT_RISK_SHARE = 0.25
_URGENCY = {State.BREACHED: 0, State.ACTIVE: 1, State.PAUSED: 2, State.ACHIEVED: 3}


class Tone(StrEnum):
    """How a clock stands, as the case page colours and names it."""

    ON_TRACK = "on-track"
    AT_RISK = "at-risk"
    BREACHED = "breached"
    IDLE = "idle"


TONE_WORDS = {
    Tone.ON_TRACK: "On track",
    Tone.AT_RISK: "At risk",
    Tone.BREACHED: "Breached",
}


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One clock as a person reads it at an instant."""

    clock: Clock
    name: str
    tone: Tone
    status: str
    wording: str
    is_running: bool


def case_clocks(case: Case) -> list[Clock]:
    """The case's clocks, most urgent first, with their target and third party, in one query.

    Breached first, then active by due instant, then paused, then achieved.
    """
    urgency = Conditional(
        *(When(state=state.value, then=Value(rank)) for state, rank in _URGENCY.items()),
        default=Value(len(_URGENCY)),
        output_field=IntegerField(),
    )
    return list(
        Clock.objects.filter(case=case)
        .select_related("thread__contact__organisation", "policy__calendar")
        .annotate(
            urgency=urgency,
            target_minutes=Subquery(_target(case).values("minutes")[:1]),
            target_is_business_time=Subquery(_target(case).values("is_business_time")[:1]),
        )
        .order_by("urgency", F("due_at").asc(nulls_last=True), "-stopped_at", "metric", "thread_id")
    )


def _target(case: Case) -> QuerySet[Target]:
    """The target a clock was measured against: its third party's own one before the general."""
    return (
        Target.objects.filter(
            policy=OuterRef("policy_id"), metric=OuterRef("metric"), priority=case.priority
        )
        .filter(
            Q(organisation__isnull=True)
            | Q(organisation=OuterRef("thread__contact__organisation_id"))
        )
        .order_by(F("organisation").asc(nulls_last=True))
    )


def clock_name(clock: Clock) -> str:
    """A clock's name as people say it: "First reply", or "Third-party response — <party>"."""
    name = METRIC_NAMES.get(Metric(clock.metric), clock.metric)
    if clock.thread is None or clock.thread.contact is None:
        return name
    contact = clock.thread.contact
    party = contact.organisation.name if contact.organisation else str(contact)
    return f"{name} — {party}"


def clock_readings(clocks: list[Clock], *, now: datetime) -> list[ClockReading]:
    return [clock_reading(clock, now=now) for clock in clocks]


def clock_reading(clock: Clock, *, now: datetime) -> ClockReading:
    """Name, tone and wording of a clock at `now` (a clock past due is breached already)."""
    name = clock_name(clock)
    due_at = clock.due_at
    if clock.stopped_at is None and due_at is not None:
        return _running(clock, name, due_at, now)
    if clock.state == State.BREACHED:
        return ClockReading(clock, name, Tone.BREACHED, "Breached", _missed(clock), False)
    if clock.state == State.PAUSED:
        used = duration_words(timedelta(seconds=clock.elapsed_seconds))
        return ClockReading(clock, name, Tone.IDLE, "Paused", f"{used} counted", False)
    used = duration_words(timedelta(seconds=clock.elapsed_seconds))
    return ClockReading(clock, name, Tone.IDLE, "Achieved", f"met in {used}", False)


def _running(clock: Clock, name: str, due_at: datetime, now: datetime) -> ClockReading:
    if due_at <= now:
        overdue = f"overdue by {duration_words(now - due_at)}"
        return ClockReading(clock, name, Tone.BREACHED, "Breached", overdue, True)
    tone = Tone.AT_RISK if _is_at_risk(clock, due_at, now) else Tone.ON_TRACK
    return ClockReading(
        clock, name, tone, TONE_WORDS[tone], f"due in {duration_words(due_at - now)}", True
    )


def _missed(clock: Clock) -> str:
    if clock.stopped_at is None or clock.due_at is None:
        return "past its target"
    return f"missed by {duration_words(clock.stopped_at - clock.due_at)}"


def _is_at_risk(clock: Clock, due_at: datetime, now: datetime) -> bool:
    minutes: int | None = getattr(clock, "target_minutes", None)
    if not minutes:
        return False
    return _time_left(clock, due_at, now) < timedelta(minutes=minutes) * AT_RISK_SHARE


def _time_left(clock: Clock, due_at: datetime, now: datetime) -> timedelta:
    """Time left of the target: in the policy's business hours when the target counts them."""
    business_calendar = clock.policy.calendar
    if not getattr(clock, "target_is_business_time", False) or business_calendar is None:
        return due_at - now
    return business_time.between(business_calendar.to_calendar(), now, due_at)


def duration_words(duration: timedelta) -> str:
    """A duration as people say it on a countdown: "2 d 3 h", "1 h 20 min", "5 min"."""
    minutes = int(duration.total_seconds()) // 60
    if minutes < 1:
        return "less than 1 min"
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    if days:
        return f"{days} d {hour} h" if hour else f"{days} d"
    if hours:
        return f"{hour} h {minute} min" if minute else f"{hour} h"
    return f"{minute} min"
