"""Derive a case's SLA clocks from its events: pure functions, no ORM, no Django.

docs/sla.md says what each metric measures; each `*_runs` function below is one
metric, written in the same order. A metric yields its cycles as `Run`s (when it
started, the spans it was running, when it stopped); `evaluate` measures a run
against its target in business or calendar time.

Speed matters (a rebuild reads every event of every case): events arrive as plain
tuples (`Fact`), and a calendar-hours target is plain datetime arithmetic.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple

from kiwidesk.sla import calendar as business_time


class Metric(StrEnum):
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    PERIODIC_UPDATE = "periodic_update"
    PAUSABLE_UPDATE = "pausable_update"
    CUSTOMER_WAIT = "customer_wait"
    AGENT_WORK = "agent_work"
    RESOLUTION = "resolution"
    TEAM_OWNERSHIP = "team_ownership"
    THIRD_PARTY_RESPONSE = "third_party_response"
    FOLLOW_UP = "follow_up"


class State(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ACHIEVED = "achieved"
    BREACHED = "breached"


# The event kinds and values the derivation reads (cases.models.EventKind, Status, Party),
# repeated as plain strings so this module stays free of Django.
CASE_OPENED = "case_opened"
MESSAGE_RECEIVED = "message_received"
MESSAGE_SENT = "message_sent"
STATUS_CHANGED = "status_changed"
TEAM_CHANGED = "team_changed"
CALL_LOGGED = "call_logged"
CUSTOMER = "customer"
THIRD_PARTY = "third_party"
NEW, OPEN = "new", "open"
PENDING_CUSTOMER = "pending_customer"
PENDING_THIRD_PARTY, ON_HOLD = "pending_third_party", "on_hold"
SOLVED_STATUSES = frozenset({"solved", "closed"})
# Every kind a metric looks at: a rebuild reads only these from the database.
DERIVED_KINDS = (
    CASE_OPENED,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
    STATUS_CHANGED,
    TEAM_CHANGED,
    CALL_LOGGED,
)
OPEN_STATUSES = frozenset({NEW, OPEN, PENDING_CUSTOMER, PENDING_THIRD_PARTY, ON_HOLD})


class Fact(NamedTuple):
    """One event as the derivation needs it.

    `status` is the new status (a status change) or the first one (case opened);
    `team_id` the new team (team change) or the first one (case opened); `message_id`
    ties a `call_logged` (with `reached` false for a call nobody answered) to its
    message event. `by_agent`: a human agent acted (assistants and automations do not).
    """

    kind: str
    at: datetime
    thread_id: int | None = None
    party: str = ""
    is_automated: bool = False
    by_agent: bool = False
    status: str = ""
    team_id: int | None = None
    message_id: int | None = None
    reached: bool = True


@dataclass(frozen=True, slots=True)
class Target:
    seconds: int
    is_business_time: bool


@dataclass(frozen=True, slots=True)
class Targets:
    """What the applicable policy asks of this case, at the case's current priority."""

    by_metric: Mapping[Metric, Target]
    calendar: business_time.Calendar
    # Third-party response: by the third party's organisation id; None is the general one.
    third_party: Mapping[int | None, Target] = field(default_factory=dict)
    thread_organisations: Mapping[int, int | None] = field(default_factory=dict)


Span = tuple[datetime, datetime | None]  # running from, until (None: still running)


class Run(NamedTuple):
    """One cycle of a metric: it started, ran during `spans`, and stopped (or not yet)."""

    started_at: datetime
    spans: tuple[Span, ...]
    stopped_at: datetime | None


class ClockSnapshot(NamedTuple):
    """A clock as of an instant: the current (or last) cycle, and counts over all cycles.

    NamedTuples rather than frozen dataclasses for the values made per case and per
    cycle: a rebuild makes tens of millions, and a frozen dataclass costs several
    times as much to create."""

    metric: Metric
    thread_id: int | None
    state: State
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    elapsed_seconds: int
    cycles: int
    breaches: int


# Timeline helpers ---------------------------------------------------------------------


def _is_customer_message(fact: Fact) -> bool:
    return fact.kind == MESSAGE_RECEIVED and fact.party == CUSTOMER and not fact.is_automated


def _is_public_reply(fact: Fact) -> bool:
    return (
        fact.kind == MESSAGE_SENT
        and fact.party == CUSTOMER
        and fact.by_agent
        and not fact.is_automated
    )


def without_unreached_calls(facts: Sequence[Fact]) -> Sequence[Fact]:
    """The facts less the message events of calls that reached nobody.

    Such a call is no message to anyone: not a reply, not a reminder, not an answer.
    Every `*_runs` function expects its facts passed through this (derive_clocks does).
    """
    unreached = {
        f.message_id for f in facts if f.kind == CALL_LOGGED and not f.reached and f.message_id
    }
    if not unreached:
        return facts
    return [f for f in facts if f.kind == CALL_LOGGED or f.message_id not in unreached]


class StatusChanges(NamedTuple):
    """When the case's status changed (from its opening on) and to what, in time order."""

    times: list[datetime]
    statuses: list[str]


# The last facts' status changes: several metrics of one case ask for them in a row.
_last_changes: tuple[object, StatusChanges] = (None, StatusChanges([], []))


def _status_changes(facts: Sequence[Fact]) -> StatusChanges:
    global _last_changes
    last_facts, changes = _last_changes  # one read of the pair: safe across threads
    if last_facts is not facts:
        moments = [f for f in facts if f.kind in (CASE_OPENED, STATUS_CHANGED)]
        changes = StatusChanges([f.at for f in moments], [f.status for f in moments])
        _last_changes = (facts, changes)
    return changes


def _is_solve(fact: Fact) -> bool:
    return fact.kind == STATUS_CHANGED and fact.status in SOLVED_STATUSES


def _spans_while(
    changes: StatusChanges,
    statuses: frozenset[str],
    start: datetime,
    stop: datetime | None,
) -> tuple[Span, ...]:
    """The spans within [start, stop) during which the case's status is one of `statuses`."""
    times, values = changes
    count = len(times)
    spans: list[Span] = []
    # The status in force at `start` is the last change at or before it.
    index = max(bisect_right(times, start) - 1, 0)
    while index < count:
        changed_at = times[index]
        if stop is not None and changed_at >= stop:
            break
        if values[index] in statuses:
            until = times[index + 1] if index + 1 < count else None
            begin = changed_at if changed_at > start else start
            end = until if stop is None else (stop if until is None or until > stop else until)
            if end is None or end > begin:
                if spans and spans[-1][1] == begin:
                    begin = spans.pop()[0]
                spans.append((begin, end))
        index += 1
    return tuple(spans)


def _whole_life(facts: Sequence[Fact], statuses: frozenset[str]) -> list[Run]:
    """One run from creation, counting while the status is in `statuses`, stopped if solved."""
    changes = _status_changes(facts)
    if not changes.times:
        return []
    opened_at = changes.times[0]
    stopped_at = changes.times[-1] if changes.statuses[-1] in SOLVED_STATUSES else None
    return [Run(opened_at, _spans_while(changes, statuses, opened_at, None), stopped_at)]


def _cycles(starts_stops: Iterable[tuple[datetime, datetime | None]]) -> list[Run]:
    return [Run(start, ((start, stop),), stop) for start, stop in starts_stops]


# The metrics, in the order of docs/sla.md ---------------------------------------------


def first_reply_runs(facts: Sequence[Fact]) -> list[Run]:
    """From the first customer message to the first public agent reply (or solve)."""
    start: datetime | None = None
    for fact in facts:
        if start is None and _is_customer_message(fact):
            start = fact.at
        elif start is not None and (_is_public_reply(fact) or _is_solve(fact)):
            return _cycles([(start, fact.at)])
    return [] if start is None else _cycles([(start, None)])


def next_reply_runs(facts: Sequence[Fact]) -> list[Run]:
    """From the oldest unanswered customer message after the first reply to the next reply."""
    cycles: list[tuple[datetime, datetime | None]] = []
    first_asked = first_done = False
    start: datetime | None = None
    for fact in facts:
        is_stop = _is_public_reply(fact) or _is_solve(fact)
        if _is_customer_message(fact):
            if first_done and start is None:
                start = fact.at
            first_asked = True
        elif is_stop and start is not None:
            cycles.append((start, fact.at))
            start = None
        elif is_stop and first_asked:
            first_done = True
    if start is not None:
        cycles.append((start, None))
    return _cycles(cycles)


# The last facts' update cycles: periodic and pausable update ask for them in a row.
_last_updates: tuple[object, list[tuple[datetime, datetime | None]]] = (None, [])


def _update_cycles(facts: Sequence[Fact]) -> list[tuple[datetime, datetime | None]]:
    global _last_updates
    last_facts, cycles = _last_updates  # one read of the pair: safe across threads
    if last_facts is not facts:
        cycles = _update_cycles_of(facts)
        _last_updates = (facts, cycles)
    return cycles


def _update_cycles_of(facts: Sequence[Fact]) -> list[tuple[datetime, datetime | None]]:
    cycles: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    solved = False
    for fact in facts:
        if fact.kind in (CASE_OPENED, STATUS_CHANGED):
            solved = fact.status in SOLVED_STATUSES
        if _is_public_reply(fact) or (solved and start is not None):
            if start is not None:
                cycles.append((start, fact.at))
            start = None if solved else fact.at
    if start is not None:
        cycles.append((start, None))
    return cycles


def periodic_update_runs(facts: Sequence[Fact]) -> list[Run]:
    """From each public agent reply to the next one, never paused."""
    return _cycles(_update_cycles(facts))


def pausable_update_runs(facts: Sequence[Fact]) -> list[Run]:
    """As periodic update, paused while pending-customer."""
    changes = _status_changes(facts)
    running = OPEN_STATUSES - {PENDING_CUSTOMER}
    return [
        Run(start, _spans_while(changes, running, start, stop), stop)
        for start, stop in _update_cycles(facts)
    ]


def customer_wait_runs(facts: Sequence[Fact]) -> list[Run]:
    """From creation to solved, paused only while pending-customer; a reopen resumes it."""
    return _whole_life(facts, OPEN_STATUSES - {PENDING_CUSTOMER})


def agent_work_runs(facts: Sequence[Fact]) -> list[Run]:
    """From creation to solved, counting only while new or open."""
    return _whole_life(facts, frozenset({NEW, OPEN}))


def resolution_runs(facts: Sequence[Fact]) -> list[Run]:
    """From creation to solved, never paused; a reopen resumes it."""
    return _whole_life(facts, OPEN_STATUSES)


def team_ownership_runs(facts: Sequence[Fact]) -> list[Run]:
    """From a team's assignment until another team (or none) takes it, or it is solved."""
    cycles: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    team_id: int | None = None
    solved = False
    for fact in facts:
        if fact.kind == CASE_OPENED:
            team_id, solved = fact.team_id, fact.status in SOLVED_STATUSES
        elif fact.kind == TEAM_CHANGED and fact.team_id != team_id:
            team_id = fact.team_id
            if start is not None:
                cycles.append((start, fact.at))
                start = None
        elif fact.kind == STATUS_CHANGED:
            solved = fact.status in SOLVED_STATUSES
            if solved and start is not None:
                cycles.append((start, fact.at))
                start = None
        else:
            continue
        if start is None and team_id is not None and not solved:
            start = fact.at
    if start is not None:
        cycles.append((start, None))
    return _cycles(cycles)


def third_party_response_runs(facts: Sequence[Fact]) -> dict[int, list[Run]]:
    """Per third-party thread: from each message we send to their next (not automated) answer."""
    cycles: dict[int, list[tuple[datetime, datetime | None]]] = {}
    waiting: dict[int, datetime] = {}
    for fact in facts:
        thread_id = fact.thread_id
        if _is_solve(fact):
            for waiting_thread, start in waiting.items():
                cycles[waiting_thread].append((start, fact.at))
            waiting.clear()
        elif thread_id is None or fact.party != THIRD_PARTY:
            continue
        elif fact.kind == MESSAGE_SENT and thread_id not in waiting:
            waiting[thread_id] = fact.at
            cycles.setdefault(thread_id, [])
        elif fact.kind == MESSAGE_RECEIVED and not fact.is_automated and thread_id in waiting:
            cycles[thread_id].append((waiting.pop(thread_id), fact.at))
    for thread_id, start in waiting.items():
        cycles[thread_id].append((start, None))
    return {thread_id: _cycles(spans) for thread_id, spans in cycles.items()}


def follow_up_runs(facts: Sequence[Fact]) -> list[Run]:
    """While pending-customer: from the pause, and from each message we send the customer,
    to the next message we send (a reminder owed); stopped when the case leaves pending."""
    cycles: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for fact in facts:
        if fact.kind in (CASE_OPENED, STATUS_CHANGED):
            pending = fact.status == PENDING_CUSTOMER
            if start is not None and not pending:
                cycles.append((start, fact.at))
                start = None
            elif start is None and pending:
                start = fact.at
        elif fact.kind == MESSAGE_SENT and fact.party == CUSTOMER and start is not None:
            cycles.append((start, fact.at))
            start = fact.at
    if start is not None:
        cycles.append((start, None))
    return _cycles(cycles)


CASE_METRICS: dict[Metric, Callable[[Sequence[Fact]], list[Run]]] = {
    Metric.FIRST_REPLY: first_reply_runs,
    Metric.NEXT_REPLY: next_reply_runs,
    Metric.PERIODIC_UPDATE: periodic_update_runs,
    Metric.PAUSABLE_UPDATE: pausable_update_runs,
    Metric.CUSTOMER_WAIT: customer_wait_runs,
    Metric.AGENT_WORK: agent_work_runs,
    Metric.RESOLUTION: resolution_runs,
    Metric.TEAM_OWNERSHIP: team_ownership_runs,
    Metric.FOLLOW_UP: follow_up_runs,
}


# Measuring a run against its target ---------------------------------------------------


class Measure(NamedTuple):
    state: State
    due_at: datetime | None
    breached_at: datetime | None
    elapsed_seconds: int


def evaluate(
    run: Run, target: Target, calendar: business_time.Calendar, as_of: datetime
) -> Measure:
    """Measure one run against `target` as of `as_of` (events after it already left out).

    The due instant is where the elapsed time reaches the target while running; a run
    that is still running past it, or stopped after it, is breached.
    """
    if target.is_business_time:
        due_at, elapsed = _business_due(run.spans, target, calendar, as_of)
    else:
        due_at, elapsed = _calendar_due(run.spans, target, as_of)
    running = bool(run.spans) and run.spans[-1][1] is None
    breached = due_at is not None and (due_at <= as_of if running else True)
    if breached:
        state = State.BREACHED
    elif run.stopped_at is not None:
        state = State.ACHIEVED
    else:
        state = State.ACTIVE if running else State.PAUSED
    return Measure(
        state,
        due_at if running or breached else None,
        due_at if breached else None,
        int(elapsed.total_seconds()),
    )


def _calendar_due(
    spans: Sequence[Span], target: Target, as_of: datetime
) -> tuple[datetime | None, timedelta]:
    """(due instant, elapsed) in calendar time: plain arithmetic, the common and cheap case."""
    remaining = timedelta(seconds=target.seconds)
    elapsed = timedelta(0)
    due_at: datetime | None = None
    for begin, end in spans:
        length = (as_of if end is None else end) - begin
        if due_at is None and (end is None or length > remaining - elapsed):
            due_at = begin + (remaining - elapsed)
        elapsed += length
    return due_at, elapsed


def _business_due(
    spans: Sequence[Span], target: Target, calendar: business_time.Calendar, as_of: datetime
) -> tuple[datetime | None, timedelta]:
    """(due instant, elapsed) in the calendar's business time."""
    remaining = timedelta(seconds=target.seconds)
    elapsed = timedelta(0)
    due_at: datetime | None = None
    for begin, end in spans:
        if due_at is None:
            reach = _business_add(calendar, begin, remaining - elapsed)
            if end is None or reach < end:
                due_at = reach
        elapsed += _business_between(calendar, begin, as_of if end is None else end)
    return due_at, elapsed


# Business time asked of one calendar, remembered: a case's metrics share most of their
# instants (four start at its opening; without pauses three whole-life metrics run over
# the same spans), so most of its sums are asked several times in a row. Kept per
# calendar object (held, so its id is never reused) and emptied when it grows.
_MEMO_LIMIT = 20_000
_business_memo: tuple[object, dict[tuple[datetime, object], Any]] = (None, {})


def _memo_of(calendar: business_time.Calendar) -> dict[tuple[datetime, object], Any]:
    global _business_memo
    owner, memo = _business_memo  # one read of the pair: safe across threads
    if owner is not calendar or len(memo) > _MEMO_LIMIT:
        memo = {}
        _business_memo = (calendar, memo)
    return memo


def _business_between(
    calendar: business_time.Calendar, begin: datetime, end: datetime
) -> timedelta:
    memo = _memo_of(calendar)
    key = (begin, end)
    found: timedelta | None = memo.get(key)
    if found is None:
        found = memo[key] = business_time.between(calendar, begin, end)
    return found


def _business_add(
    calendar: business_time.Calendar, begin: datetime, duration: timedelta
) -> datetime:
    memo = _memo_of(calendar)
    key = (begin, duration)
    found: datetime | None = memo.get(key)
    if found is None:
        found = memo[key] = business_time.add(calendar, begin, duration)
    return found


def snapshot(
    metric: Metric,
    runs: Sequence[Run],
    target: Target,
    calendar: business_time.Calendar,
    as_of: datetime,
    *,
    thread_id: int | None = None,
) -> ClockSnapshot:
    """The clock of a metric: its last cycle, with the number of cycles and of breaches."""
    last = runs[-1]
    if not target.is_business_time and len(last.spans) == 1:
        state, due_at, breached_at, elapsed_seconds = _one_span_in_calendar_time(
            last, target.seconds, as_of
        )
    else:
        state, due_at, breached_at, elapsed_seconds = evaluate(last, target, calendar, as_of)
    earlier_breaches = count_breaches(runs[:-1], target, calendar) if len(runs) > 1 else 0
    return ClockSnapshot(
        metric,
        thread_id,
        state,
        last.started_at,
        due_at,
        last.stopped_at,
        breached_at,
        elapsed_seconds,
        len(runs),
        earlier_breaches + (state is State.BREACHED),
    )


def _one_span_in_calendar_time(run: Run, seconds: int, as_of: datetime) -> Measure:
    """`evaluate` for the commonest run (one span, calendar time), without its loop.

    Most clocks of a rebuild are these; tests/sla/test_rebuild_matches_recompute.py holds
    the two to the same answers.
    """
    ((begin, end),) = run.spans
    limit = timedelta(seconds=seconds)
    running = end is None
    elapsed = (as_of if end is None else end) - begin
    due_at = begin + limit if running or elapsed > limit else None
    breached = due_at is not None and (due_at <= as_of if running else True)
    if breached:
        state = State.BREACHED
    elif run.stopped_at is not None:
        state = State.ACHIEVED
    else:
        state = State.ACTIVE if running else State.PAUSED
    return Measure(
        state,
        due_at if running or breached else None,
        due_at if breached else None,
        int(elapsed.total_seconds()),
    )


def count_breaches(stopped: Sequence[Run], target: Target, calendar: business_time.Calendar) -> int:
    """How many of these stopped runs took longer than the target.

    For a stopped run that is the same as `evaluate` saying breached (its due instant
    falls inside a span exactly when the spans hold more than the target), and cheaper.
    """
    limit = timedelta(seconds=target.seconds)
    measure: Callable[[datetime, datetime], timedelta] = (
        partial(_business_between, calendar) if target.is_business_time else _difference
    )
    breaches = 0
    for run in stopped:
        counted = _ZERO
        for begin, end in run.spans:
            if end is not None:
                counted += measure(begin, end)
        if counted > limit:
            breaches += 1
    return breaches


_ZERO = timedelta(0)


def _difference(begin: datetime, end: datetime) -> timedelta:
    return end - begin


def derive_clocks(facts: Sequence[Fact], targets: Targets, as_of: datetime) -> list[ClockSnapshot]:
    """Every clock the case owes as of `as_of`, from its facts in time order.

    Only metrics with a target get a clock, and only once they have started.
    """
    if facts and facts[-1].at > as_of:
        facts = [fact for fact in facts if fact.at <= as_of]
    facts = without_unreached_calls(facts)
    clocks: list[ClockSnapshot] = []
    for metric, target in targets.by_metric.items():
        derive = CASE_METRICS.get(metric)
        runs = derive(facts) if derive is not None else []
        if runs:
            clocks.append(snapshot(metric, runs, target, targets.calendar, as_of))
    if targets.third_party:
        clocks.extend(_third_party_clocks(facts, targets, as_of))
    return clocks


def _third_party_clocks(
    facts: Sequence[Fact], targets: Targets, as_of: datetime
) -> list[ClockSnapshot]:
    clocks = []
    for thread_id, runs in third_party_response_runs(facts).items():
        organisation_id = targets.thread_organisations.get(thread_id)
        target = targets.third_party.get(organisation_id) or targets.third_party.get(None)
        if target is not None and runs:
            clocks.append(
                snapshot(
                    Metric.THIRD_PARTY_RESPONSE,
                    runs,
                    target,
                    targets.calendar,
                    as_of,
                    thread_id=thread_id,
                )
            )
    return clocks
