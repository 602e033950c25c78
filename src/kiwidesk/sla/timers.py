"""Durable warning and breach timers: a deferred task per firing, claimed by a conditional UPDATE.

When a case's clocks are recomputed, each running clock whose due instant is new (or
moved) gets a `fire_timer` task deferred to its warning instant and one to its due
instant (`schedule_changes`). The task claims the clock row only while it still has
that due instant and its marker is empty (`warned_at` / `breach_fired_at`): an
achieved or re-targeted clock no longer matches, so a stale task does nothing. A
recompute replaces the row and empties the marker; the Event the firing wrote is what
then keeps it from firing twice.

A lost task (a queue restored from a backup, a worker killed between the claim and the
write) is found by `sweep`, which reads the active clocks' due index only, up to the
longest warning lead; it runs when the worker starts and then every `SWEEP_EVERY`.
A firing that raises is pushed forward by `RETRY_AFTER` (STYLE.md, "Claim, do not
lock-and-hope"), so one broken case cannot make the worker crash-loop.

A follow-up clock's due instant is a reminder owed, not a breach: it has no warning,
and its firing hands the claimed clock to `sla.follow_ups` in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import router, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from kiwidesk.cases import events
from kiwidesk.cases.models import Case, Event, EventKind
from kiwidesk.sla import actions, follow_ups
from kiwidesk.sla.actions import Firing
from kiwidesk.sla.metrics import Metric, State
from kiwidesk.sla.models import Clock, Policy
from kiwidesk.sla.queries import clock_name

logger = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)
SWEEP_EVERY = timedelta(minutes=1)
SWEEP_LIMIT = 1_000
# After a full rebuild, timers due within this horizon are queued; the sweep finds the rest.
REBUILD_HORIZON = timedelta(hours=6)

_KINDS = {Firing.WARNING: EventKind.SLA_WARNING, Firing.BREACH: EventKind.SLA_BREACHED}
_MARKERS = {Firing.WARNING: "warned_at", Firing.BREACH: "breach_fired_at"}
_TIMER_FIELDS = ("case_id", "metric", "thread_id", "due_at", "policy__warn_minutes_before")


@dataclass(frozen=True, slots=True)
class Timer:
    """One firing of one clock: what it is for and when it goes off."""

    case_id: int
    metric: str
    thread_id: int | None
    firing: Firing
    due_at: datetime
    fires_at: datetime


def clock_timers(
    case_id: int, metric: str, thread_id: int | None, due_at: datetime, warn_minutes: int | None
) -> list[Timer]:
    """The warning (if the policy warns) and the breach timer of a running clock.

    A follow-up clock has no warning: its due instant is when a reminder goes out.
    """
    due_at = due_at.astimezone(UTC)
    breach = Timer(case_id, metric, thread_id, Firing.BREACH, due_at, due_at)
    if not warn_minutes or metric == Metric.FOLLOW_UP:
        return [breach]
    warns_at = due_at - timedelta(minutes=warn_minutes)
    return [Timer(case_id, metric, thread_id, Firing.WARNING, due_at, warns_at), breach]


def case_timers(case_id: int) -> set[Timer]:
    """The timers of the case's running clocks, and the breach of its breached ones.

    A breached clock counts so that one a recompute finds breached already (a raised
    priority gave it a shorter target that has passed) gets its breach fired at once.
    """
    clocks = Clock.objects.filter(
        case_id=case_id, state__in=[State.ACTIVE, State.BREACHED], due_at__isnull=False
    )
    timers: set[Timer] = set()
    for state, *row in clocks.values_list("state", *_TIMER_FIELDS):
        found = clock_timers(*row)
        timers.update(found if state == State.ACTIVE else found[-1:])
    return timers


def schedule_changes(before: set[Timer], after: set[Timer]) -> int:
    """Queue the timers a recompute added or moved; return how many."""
    return schedule(after - before)


def schedule(timers: Iterable[Timer]) -> int:
    """Queue a deferred `fire_timer` task per timer (nothing where the backend cannot defer)."""
    from kiwidesk.sla.tasks import fire_timer

    if not fire_timer.get_backend().supports_defer:
        return 0
    count = 0
    for timer in timers:
        fire_timer.using(run_after=timer.fires_at).enqueue(*_task_args(timer))
        count += 1
    return count


def _task_args(timer: Timer) -> tuple[int, str, int | None, str, str]:
    return (timer.case_id, timer.metric, timer.thread_id, timer.firing, timer.due_at.isoformat())


def timer_from_args(
    case_id: int, metric: str, thread_id: int | None, firing: str, due_at: str
) -> Timer:
    due = datetime.fromisoformat(due_at)
    return Timer(case_id, metric, thread_id, Firing(firing), due, due)


def schedule_upcoming(*, now: datetime | None = None, horizon: timedelta = REBUILD_HORIZON) -> int:
    """Queue the timers a full rebuild leaves unqueued; return how many.

    Those of running clocks due within the horizon, and the breach of each clock the
    rebuild found breached within the horizon before now, not fired yet (its task runs
    at once; the firing's Event check keeps one fired before from firing again). Older
    breaches are history: no flood of firings after a rebuild.
    """
    now = now or timezone.now()
    rows = _running(until=now + horizon).values_list(*_TIMER_FIELDS)
    upcoming = schedule(
        timer for row in rows.iterator() for timer in clock_timers(*row) if timer.fires_at > now
    )
    return upcoming + schedule(_recent_breaches(now=now, horizon=horizon))


def _recent_breaches(*, now: datetime, horizon: timedelta) -> Iterator[Timer]:
    # No index serves this (the partial one holds running clocks only): one scan of
    # the clocks, once per full rebuild, which has just written every one of them.
    rows = Clock.objects.filter(
        state=State.BREACHED,
        breach_fired_at__isnull=True,
        due_at__gte=now - horizon,
        due_at__lte=now,
    ).values_list(*_TIMER_FIELDS)
    for row in rows.iterator():
        yield clock_timers(*row)[-1]


def _running(*, until: datetime) -> Any:
    # state + due_at is the partial index clock_active_due: no scan of every clock.
    return Clock.objects.filter(state=State.ACTIVE, due_at__lte=until).order_by("due_at")


def sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Fire every warning and breach already due whose marker is empty; return how many fired."""
    now = now or timezone.now()
    lead = Policy.objects.filter(is_active=True).aggregate(lead=Max("warn_minutes_before"))["lead"]
    rows = (
        _running(until=now + timedelta(minutes=lead or 0))
        .filter(Q(check_after__isnull=True) | Q(check_after__lte=now))
        .values_list(*_TIMER_FIELDS, "warned_at", "breach_fired_at")[:limit]
    )
    fired = 0
    for *clock, warned_at, breach_fired_at in rows:
        for timer in clock_timers(*clock):
            pending = (
                breach_fired_at is None if timer.firing == Firing.BREACH else warned_at is None
            )
            if pending and timer.fires_at <= now and fire(timer, now=now):
                fired += 1
    return fired


def fire(timer: Timer, *, now: datetime | None = None) -> bool:
    """Claim the clock, perform the policy's actions once and record the Event.

    Returns whether it fired. A firing that raises is rolled back and pushed forward.
    """
    now = now or timezone.now()
    try:
        _refresh_if_stale(timer)
        with transaction.atomic(using=router.db_for_write(Clock)):
            notices = _fire(timer, now)
    except Exception:
        logger.exception(
            "SLA %s of %s on case %s failed", timer.firing, timer.metric, timer.case_id
        )
        _push_forward(timer, now)
        return False
    if notices is None:
        return False
    for notice in notices:
        actions.notify(notice)
    return True


def _refresh_if_stale(timer: Timer) -> None:
    """Recompute the case first if it has events its clock row has not seen yet.

    A reply written while no worker ran has its recompute still queued behind this
    firing: the row would say "running" for a clock already achieved.
    """
    computed_at = _clock(timer).values_list("computed_at", flat=True).first()
    if computed_at is None:
        return
    newer = Event.objects.filter(case_id=timer.case_id, created_at__gt=computed_at)
    if newer.exists():
        from kiwidesk.sla.tasks import recompute_case

        recompute_case.call(timer.case_id)


def _fire(timer: Timer, now: datetime) -> list[actions.Notice] | None:
    """Inside the transaction: None when there is nothing to fire, else the notices to send."""
    # The case first, then its clock: a recompute locks the case and then replaces the
    # clock rows, and a firing that took the clock row first and the case after (its
    # actions and reminders change the case) could deadlock with it on PostgreSQL.
    _lock_case(timer.case_id)
    if not _claim(timer, now) or _already_recorded(timer):
        return None
    clock = _clock(timer).select_related("policy", "thread__contact__organisation").get()
    if timer.metric == Metric.FOLLOW_UP:
        # A reminder owed, not a breach: no escalation, no sla_breached Event.
        outcome = follow_ups.follow_up(clock, due_at=timer.due_at, now=now)
        return None if outcome is follow_ups.Outcome.NOTHING else []
    case = _case(timer.case_id)
    escalation = actions.escalation(clock.policy, timer.firing)
    done = actions.perform(case, escalation)
    constructor = events.sla_warning if timer.firing == Firing.WARNING else events.sla_breached
    name = clock_name(clock)
    constructor(
        case,
        metric=timer.metric,
        clock=name,
        due_at=timer.due_at,
        actions=done,
        thread=clock.thread,
        at=now,
    )
    words = "breached" if timer.firing == Firing.BREACH else "is due soon"
    notice = escalation.notifies and actions.notice(_case(case.pk), f"{name} {words}")
    return [notice] if notice else []


def _lock_case(case_id: int) -> None:
    list(Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True))


def _case(case_id: int) -> Case:
    return Case.objects.select_related("assignee").get(pk=case_id)


def _clock(timer: Timer) -> QuerySet[Clock]:
    return Clock.objects.filter(_same_thread(timer), case_id=timer.case_id, metric=timer.metric)


def _same_thread(timer: Timer) -> Q:
    return Q(thread__isnull=True) if timer.thread_id is None else Q(thread_id=timer.thread_id)


def _claim(timer: Timer, now: datetime) -> bool:
    """The conditional UPDATE: true only if this clock still fires now, and nobody took it."""
    marker = _MARKERS[timer.firing]
    rows = _clock(timer).filter(due_at=timer.due_at, **{f"{marker}__isnull": True})
    if timer.firing == Firing.WARNING:
        # A warning that comes too late to warn is left to the breach.
        rows = rows.filter(state=State.ACTIVE, due_at__gt=now)
    else:
        rows = rows.filter(state__in=[State.ACTIVE, State.BREACHED])
    claimed: int = rows.update(**{marker: now})
    return claimed == 1


def _already_recorded(timer: Timer) -> bool:
    """Whether this firing's Event exists (its marker went with a recomputed row)."""
    if timer.metric == Metric.FOLLOW_UP:
        return follow_ups.already_handled(timer.case_id, timer.due_at)
    return Event.objects.filter(
        _same_thread(timer),
        case_id=timer.case_id,
        kind=_KINDS[timer.firing],
        payload__metric=timer.metric,
        payload__due_at=timer.due_at.isoformat(),
    ).exists()


def _push_forward(timer: Timer, now: datetime) -> None:
    retry_at = now + RETRY_AFTER
    _clock(timer).filter(due_at=timer.due_at).update(check_after=retry_at)
    schedule([Timer(**{**_fields(timer), "fires_at": retry_at})])


def _fields(timer: Timer) -> dict[str, Any]:
    return {name: getattr(timer, name) for name in Timer.__slots__}


def start(*, now: datetime | None = None) -> int:
    """At worker start: fire what was lost while no worker ran, and keep one sweep queued."""
    from kiwidesk.sla.tasks import sweep_timers

    fired = sweep(now=now)
    backend = sweep_timers.get_backend()
    if backend.supports_defer and not _sweep_queued(sweep_timers.module_path):
        sweep_timers.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    return fired


def _sweep_queued(task_path: str) -> bool:
    # Each worker start would otherwise add one more self-rescheduling chain.
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY)
    return queued.exists()
