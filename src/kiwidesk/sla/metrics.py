"""Derive a case's SLA clocks from its events: pure functions, no ORM, no Django.

docs/sla.md says what each metric measures; each `*_runs` function below is one
metric, written in the same order. A metric yields its cycles as `Run`s (when it
started, the spans it was running, when it stopped); `evaluate` measures a run
against its target in business or calendar time.

Speed matters (a rebuild reads every event of every case, a million cases in under a
minute): instants are whole microseconds since 1970 (UTC), as the database query
gives them and the business calendar counts; each event is classified once into a
few bits (`Timeline`), so a metric's walk over the events is integer tests with no
call per event; and a clock is a plain tuple of numbers (`RawClock`) until the one
place that shows it (`derive_clocks`) turns it into datetimes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

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

Moment = int  # microseconds since 1970-01-01 UTC (calendar.to_micros)
SECOND = 1_000_000


class Fact(NamedTuple):
    """One event as the derivation needs it.

    `at` in microseconds since 1970 (UTC); `status` is the new status (a status change)
    or the first one (case opened); `team_id` the new team (team change) or the first
    one (case opened); `message_id` ties a `call_logged` (with `reached` false for a
    call nobody answered) to its message event. `by_agent`: a human agent acted
    (assistants and automations do not). The flags are anything true or false (a
    rebuild passes SQLite's 0 and 1 as they come).
    """

    kind: str
    at: Moment
    thread_id: int | None = None
    party: str = ""
    is_automated: bool = False
    by_agent: bool = False
    status: str = ""
    team_id: int | None = None
    message_id: int | None = None
    reached: bool = True
    # The case, when the facts of many cases are read at once (a rebuild).
    case_id: int | None = None


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
    # Follow-up cadence: the automated messages to the customer in one pending stretch
    # after which no cycle starts (None: no limit). policies.targets_for counts the
    # policy's reminders, plus its solve notice when it solves after them.
    follow_up_limit: int | None = None


Span = tuple[Moment, Moment | None]  # running from, until (None: still running)


class Run(NamedTuple):
    """One cycle of a metric: it started, ran during `spans`, and stopped (or not yet)."""

    started_at: Moment
    spans: tuple[Span, ...]
    stopped_at: Moment | None


class RawClock(NamedTuple):
    """A clock as of an instant: the current (or last) cycle, and counts over all cycles.

    Instants in microseconds; `ClockSnapshot` is the same with datetimes. NamedTuples
    rather than frozen dataclasses for the values made per case and per cycle: a
    rebuild makes tens of millions, and a frozen dataclass costs several times as much
    to create."""

    metric: Metric
    thread_id: int | None
    state: State
    started_at: Moment
    due_at: Moment | None
    stopped_at: Moment | None
    breached_at: Moment | None
    elapsed_seconds: int
    cycles: int
    breaches: int


class ClockSnapshot(NamedTuple):
    """A `RawClock` with its instants as aware UTC datetimes."""

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


# The timeline: each event classified once ----------------------------------------------

ASKS = 1  # a customer message (inbound on the customer's thread, not automated)
REPLIES = 2  # a public agent reply (outbound to the customer, by a human, not automated)
SOLVES = 4  # a status change to solved or closed
SETS_STATUS = 8  # the case opened or changed status (the fact's `status`)
SETS_TEAM = 16  # the case opened or changed team (the fact's `team_id`)
WRITES_CUSTOMER = 32  # any message we sent the customer, automated or not
WRITES_THIRD_PARTY = 64  # a message we sent on a third-party thread
THIRD_PARTY_ANSWERS = 128  # a third party's message that is not automated


class Timeline(NamedTuple):
    """A case's facts in time order with the bits that say what each one is, and its
    status changes (from its opening on) as two lists for bisecting."""

    marked: list[tuple[int, Fact]]
    change_times: list[Moment]
    change_statuses: list[str]


def timeline(facts: Sequence[Fact]) -> Timeline:
    """Classify every fact once, leaving out the message events of calls that reached
    nobody: such a call is no message to anyone (not a reply, a reminder or an answer)."""
    unreached = {
        f.message_id for f in facts if f.kind == CALL_LOGGED and not f.reached and f.message_id
    }
    marked: list[tuple[int, Fact]] = []
    times: list[Moment] = []
    statuses: list[str] = []
    for fact in facts:
        kind = fact.kind
        if kind == MESSAGE_RECEIVED:
            if unreached and fact.message_id in unreached:
                continue
            if fact.is_automated:
                mark = 0
            elif fact.party == CUSTOMER:
                mark = ASKS
            elif fact.party == THIRD_PARTY and fact.thread_id is not None:
                mark = THIRD_PARTY_ANSWERS
            else:
                mark = 0
        elif kind == MESSAGE_SENT:
            if unreached and fact.message_id in unreached:
                continue
            if fact.party == CUSTOMER:
                mark = WRITES_CUSTOMER
                if fact.by_agent and not fact.is_automated:
                    mark |= REPLIES
            elif fact.party == THIRD_PARTY and fact.thread_id is not None:
                mark = WRITES_THIRD_PARTY
            else:
                mark = 0
        elif kind == STATUS_CHANGED:
            mark = SETS_STATUS | (SOLVES if fact.status in SOLVED_STATUSES else 0)
            times.append(fact.at)
            statuses.append(fact.status)
        elif kind == CASE_OPENED:
            mark = SETS_STATUS | SETS_TEAM
            times.append(fact.at)
            statuses.append(fact.status)
        elif kind == TEAM_CHANGED:
            mark = SETS_TEAM
        else:
            continue
        if mark:
            marked.append((mark, fact))
    return Timeline(marked, times, statuses)


def _spans_while(
    line: Timeline, statuses: frozenset[str], start: Moment, stop: Moment | None
) -> tuple[Span, ...]:
    """The spans within [start, stop) during which the case's status is one of `statuses`."""
    times, values = line.change_times, line.change_statuses
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


def _whole_life(line: Timeline, statuses: frozenset[str]) -> list[Run]:
    """One run from creation, counting while the status is in `statuses`, stopped if solved."""
    times = line.change_times
    if not times:
        return []
    opened_at = times[0]
    stopped_at = times[-1] if line.change_statuses[-1] in SOLVED_STATUSES else None
    return [Run(opened_at, _spans_while(line, statuses, opened_at, None), stopped_at)]


Cycle = tuple[Moment, Moment | None]


def _runs(cycles: list[Cycle]) -> list[Run]:
    return [Run(start, ((start, stop),), stop) for start, stop in cycles]


# The metrics, in the order of docs/sla.md ---------------------------------------------


def first_reply_runs(line: Timeline) -> list[Run]:
    """From the first customer message to the first public agent reply (or solve)."""
    start: Moment | None = None
    for mark, fact in line.marked:
        if start is None:
            if mark & ASKS:
                start = fact.at
        elif mark & (REPLIES | SOLVES):
            return _runs([(start, fact.at)])
    return [] if start is None else _runs([(start, None)])


def next_reply_runs(line: Timeline) -> list[Run]:
    """From the oldest unanswered customer message after the first reply to the next reply."""
    cycles: list[Cycle] = []
    first_asked = first_done = False
    start: Moment | None = None
    for mark, fact in line.marked:
        if mark & ASKS:
            if first_done and start is None:
                start = fact.at
            first_asked = True
        elif mark & (REPLIES | SOLVES):
            if start is not None:
                cycles.append((start, fact.at))
                start = None
            elif first_asked:
                first_done = True
    if start is not None:
        cycles.append((start, None))
    return _runs(cycles)


def _update_cycles(line: Timeline) -> list[Cycle]:
    """From each public agent reply to the next one; solving ends a cycle and starts none."""
    cycles: list[Cycle] = []
    start: Moment | None = None
    solved = False
    for mark, fact in line.marked:
        if mark & SETS_STATUS:
            solved = fact.status in SOLVED_STATUSES
        if mark & REPLIES or (solved and start is not None):
            if start is not None:
                cycles.append((start, fact.at))
            start = None if solved else fact.at
    if start is not None:
        cycles.append((start, None))
    return cycles


def periodic_update_runs(line: Timeline) -> list[Run]:
    """From each public agent reply to the next one, never paused."""
    return _runs(_update_cycles(line))


_UPDATE_RUNNING = OPEN_STATUSES - {PENDING_CUSTOMER}


def pausable_update_runs(line: Timeline) -> list[Run]:
    """As periodic update, paused while pending-customer."""
    return [
        Run(start, _spans_while(line, _UPDATE_RUNNING, start, stop), stop)
        for start, stop in _update_cycles(line)
    ]


def customer_wait_runs(line: Timeline) -> list[Run]:
    """From creation to solved, paused only while pending-customer; a reopen resumes it."""
    return _whole_life(line, OPEN_STATUSES - {PENDING_CUSTOMER})


def agent_work_runs(line: Timeline) -> list[Run]:
    """From creation to solved, counting only while new or open."""
    return _whole_life(line, frozenset({NEW, OPEN}))


def resolution_runs(line: Timeline) -> list[Run]:
    """From creation to solved, never paused; a reopen resumes it."""
    return _whole_life(line, OPEN_STATUSES)


def team_ownership_runs(line: Timeline) -> list[Run]:
    """From a team's assignment until another team (or none) takes it, or it is solved."""
    cycles: list[Cycle] = []
    start: Moment | None = None
    team_id: int | None = None
    solved = False
    for mark, fact in line.marked:
        if mark & SETS_TEAM and mark & SETS_STATUS:  # the case opened
            team_id, solved = fact.team_id, fact.status in SOLVED_STATUSES
        elif mark & SETS_TEAM:
            if fact.team_id == team_id:
                continue
            team_id = fact.team_id
            if start is not None:
                cycles.append((start, fact.at))
                start = None
        elif mark & SETS_STATUS:
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
    return _runs(cycles)


def third_party_response_runs(line: Timeline) -> dict[int, list[Run]]:
    """Per third-party thread: from each message we send to their next (not automated) answer."""
    cycles: dict[int, list[Cycle]] = {}
    waiting: dict[int, Moment] = {}
    for mark, fact in line.marked:
        if mark & SOLVES:
            for waiting_thread, start in waiting.items():
                cycles[waiting_thread].append((start, fact.at))
            waiting.clear()
        elif mark & WRITES_THIRD_PARTY:
            thread_id = fact.thread_id
            if thread_id is not None and thread_id not in waiting:
                waiting[thread_id] = fact.at
                cycles.setdefault(thread_id, [])
        elif mark & THIRD_PARTY_ANSWERS:
            thread_id = fact.thread_id
            if thread_id is not None and thread_id in waiting:
                cycles[thread_id].append((waiting.pop(thread_id), fact.at))
    for thread_id, start in waiting.items():
        cycles[thread_id].append((start, None))
    return {thread_id: _runs(spans) for thread_id, spans in cycles.items()}


def follow_up_runs(line: Timeline, limit: int | None = None) -> list[Run]:
    """While pending-customer: from the pause, and from each message we send the customer,
    to the next message we send (a reminder owed); stopped when the case leaves pending.

    Once `limit` automated messages went to the customer in one pending stretch, no
    cycle starts until the case leaves pending-customer and comes back.
    """
    cycles: list[Cycle] = []
    start: Moment | None = None
    pending = False
    automated = 0
    for mark, fact in line.marked:
        if mark & SETS_STATUS:
            was_pending, pending = pending, fact.status == PENDING_CUSTOMER
            if start is not None and not pending:
                cycles.append((start, fact.at))
                start = None
            elif pending and not was_pending:
                automated = 0
                start = fact.at if limit is None or limit > 0 else None
        elif mark & WRITES_CUSTOMER and pending:
            automated += fact.is_automated
            if start is not None:
                cycles.append((start, fact.at))
            start = fact.at if limit is None or automated < limit else None
    if start is not None:
        cycles.append((start, None))
    return _runs(cycles)


CASE_METRICS: dict[Metric, Callable[[Timeline], list[Run]]] = {
    Metric.FIRST_REPLY: first_reply_runs,
    Metric.NEXT_REPLY: next_reply_runs,
    Metric.PERIODIC_UPDATE: periodic_update_runs,
    Metric.PAUSABLE_UPDATE: pausable_update_runs,
    Metric.CUSTOMER_WAIT: customer_wait_runs,
    Metric.AGENT_WORK: agent_work_runs,
    Metric.RESOLUTION: resolution_runs,
    Metric.TEAM_OWNERSHIP: team_ownership_runs,
}  # and follow-up (it needs the policy's limit) and third-party response (per thread)


# Measuring a run against its target ---------------------------------------------------


class Measure(NamedTuple):
    state: State
    due_at: Moment | None
    breached_at: Moment | None
    elapsed_seconds: int


def evaluate(run: Run, target: Target, calendar: business_time.Calendar, as_of: Moment) -> Measure:
    """Measure one run against `target` as of `as_of` (events after it already left out).

    The due instant is where the elapsed time reaches the target while running; a run
    that is still running past it, or stopped after it, is breached.
    """
    limit = target.seconds * SECOND
    if target.is_business_time:
        due_at, elapsed = _business_due(run.spans, limit, calendar, as_of)
    else:
        due_at, elapsed = _calendar_due(run.spans, limit, as_of)
    running = bool(run.spans) and run.spans[-1][1] is None
    return _measure(run, due_at, elapsed, running, as_of)


def _measure(
    run: Run, due_at: Moment | None, elapsed: int, running: bool, as_of: Moment
) -> Measure:
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
        elapsed // SECOND,
    )


def _calendar_due(spans: Sequence[Span], limit: int, as_of: Moment) -> tuple[Moment | None, int]:
    """(due instant, elapsed) in calendar time: plain arithmetic, the common and cheap case."""
    elapsed = 0
    due_at: Moment | None = None
    for begin, end in spans:
        length = (as_of if end is None else end) - begin
        if due_at is None and (end is None or length > limit - elapsed):
            due_at = begin + (limit - elapsed)
        elapsed += length
    return due_at, elapsed


def _business_due(
    spans: Sequence[Span], limit: int, calendar: business_time.Calendar, as_of: Moment
) -> tuple[Moment | None, int]:
    """(due instant, elapsed) in the calendar's business time.

    While no span has reached the due instant, the elapsed time is below the limit
    (business time up to `add(begin, d)` is `d`), so the time added is never negative.
    """
    between, add = _business(calendar)
    elapsed = 0
    due_at: Moment | None = None
    for begin, end in spans:
        if due_at is None:
            reach = add(begin, limit - elapsed)
            if end is None or reach < end:
                due_at = reach
        elapsed += between(begin, as_of if end is None else end)
    return due_at, elapsed


# Business time asked of one calendar, remembered: a case's metrics share most of their
# instants (four start at its opening; without pauses three whole-life metrics run over
# the same spans), so most of its sums are asked several times in a row. Kept for the
# last calendar asked (held, so its id is never reused) and emptied when it grows.
_MEMO_LIMIT = 20_000
BusinessTime = tuple[Callable[[Moment, Moment], int], Callable[[Moment, int], Moment]]
_last_business: tuple[object, BusinessTime] | None = None


def _business(calendar: business_time.Calendar) -> BusinessTime:
    """`between` and `add` on this calendar, each remembering its answers."""
    global _last_business
    last = _last_business  # one read: safe across threads
    if last is not None and last[0] is calendar:
        return last[1]
    between_memo: dict[tuple[Moment, Moment], int] = {}
    add_memo: dict[tuple[Moment, int], Moment] = {}

    def between(begin: Moment, end: Moment) -> int:
        key = (begin, end)
        found = between_memo.get(key)
        if found is None:
            if len(between_memo) > _MEMO_LIMIT:
                between_memo.clear()
            found = between_memo[key] = business_time.between_micros(calendar, begin, end)
        return found

    def add(begin: Moment, duration: int) -> Moment:
        key = (begin, duration)
        found = add_memo.get(key)
        if found is None:
            if len(add_memo) > _MEMO_LIMIT:
                add_memo.clear()
            found = add_memo[key] = business_time.add_micros(calendar, begin, duration)
        return found

    functions = (between, add)
    _last_business = (calendar, functions)
    return functions


def snapshot(
    metric: Metric,
    runs: Sequence[Run],
    target: Target,
    calendar: business_time.Calendar,
    as_of: Moment,
    *,
    thread_id: int | None = None,
) -> RawClock:
    """The clock of a metric: its last cycle, with the number of cycles and of breaches."""
    last = runs[-1]
    spans = last.spans
    if not target.is_business_time and len(spans) == 1:
        # The commonest clock (one span, calendar time): `evaluate` without its loop.
        # tests/sla/test_rebuild_matches_recompute.py holds the two to the same answers.
        begin, end = spans[0]
        limit = target.seconds * SECOND
        running = end is None
        elapsed = (as_of if end is None else end) - begin
        due = begin + limit if running or elapsed > limit else None
        state, due_at, breached_at, elapsed_seconds = _measure(last, due, elapsed, running, as_of)
    else:
        state, due_at, breached_at, elapsed_seconds = evaluate(last, target, calendar, as_of)
    earlier_breaches = count_breaches(runs[:-1], target, calendar) if len(runs) > 1 else 0
    return RawClock(
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


def count_breaches(stopped: Sequence[Run], target: Target, calendar: business_time.Calendar) -> int:
    """How many of these stopped runs took longer than the target.

    For a stopped run that is the same as `evaluate` saying breached (its due instant
    falls inside a span exactly when the spans hold more than the target), and cheaper.
    """
    limit = target.seconds * SECOND
    between = _business(calendar)[0] if target.is_business_time else None
    breaches = 0
    for run in stopped:
        counted = 0
        for begin, end in run.spans:
            if end is not None:
                counted += end - begin if between is None else between(begin, end)
        if counted > limit:
            breaches += 1
    return breaches


def derive_raw(facts: Sequence[Fact], targets: Targets, as_of: Moment) -> list[RawClock]:
    """Every clock the case owes as of `as_of`, from its facts in time order.

    Only metrics with a target get a clock, and only once they have started.
    """
    if facts and facts[-1].at > as_of:
        facts = [fact for fact in facts if fact.at <= as_of]
    line = timeline(facts)
    clocks: list[RawClock] = []
    calendar = targets.calendar
    for metric, target in targets.by_metric.items():
        derive = CASE_METRICS.get(metric)
        if derive is not None:
            runs = derive(line)
        elif metric is Metric.FOLLOW_UP:
            runs = follow_up_runs(line, targets.follow_up_limit)
        else:
            continue
        if runs:
            clocks.append(snapshot(metric, runs, target, calendar, as_of))
    if targets.third_party:
        clocks.extend(_third_party_clocks(line, targets, as_of))
    return clocks


def derive_clocks(facts: Sequence[Fact], targets: Targets, as_of: datetime) -> list[ClockSnapshot]:
    """`derive_raw` with datetimes: what a person reads."""
    return [
        ClockSnapshot(
            metric,
            thread_id,
            state,
            business_time.from_micros(started_at),
            _datetime(due_at),
            _datetime(stopped_at),
            _datetime(breached_at),
            elapsed,
            cycles,
            breaches,
        )
        for (
            metric,
            thread_id,
            state,
            started_at,
            due_at,
            stopped_at,
            breached_at,
            elapsed,
            cycles,
            breaches,
        ) in derive_raw(facts, targets, business_time.to_micros(as_of))
    ]


def _datetime(moment: Moment | None) -> datetime | None:
    return None if moment is None else business_time.from_micros(moment)


def _third_party_clocks(line: Timeline, targets: Targets, as_of: Moment) -> list[RawClock]:
    clocks = []
    for thread_id, runs in third_party_response_runs(line).items():
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
