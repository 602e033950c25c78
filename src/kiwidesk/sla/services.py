"""Rebuild the clocks of cases from their events: one case after an event, or every case.

Both paths share one batch routine: read the cases' traits, third-party threads and
events with a query each, derive the clocks in memory (sla.metrics), and replace the
cases' clock rows in one transaction. Events are read and clocks written through the
cursor, as plain tuples: at a million cases, a model instance per event or per clock
costs more than all the rest (see bench/bench_sla_rebuild.py).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from kiwidesk.cases.models import OPEN_STATUSES, Case, Event, Message, Party, Thread
from kiwidesk.sla.metrics import (
    DERIVED_KINDS,
    ClockSnapshot,
    Fact,
    Metric,
    State,
    Targets,
    derive_clocks,
)
from kiwidesk.sla.models import Clock
from kiwidesk.sla.policies import CaseTraits, CompiledPolicy, active_policies, applicable_policy

# Cases per range (and per write transaction). With two processes on SQLite, 5,000
# took a tenth less time than 2,000 (fewer waits for the other's write lock), and one
# range's write still holds the lock for only about 0.2 s.
DEFAULT_BATCH = 5_000
_FETCH = 10_000
_CLOCK_COLUMNS = (
    "case_id", "metric", "thread_id", "policy_id", "state", "started_at", "due_at",
    "stopped_at", "breached_at", "elapsed_seconds", "cycles", "breaches", "computed_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RebuildSummary:
    cases: int
    events: int
    clocks: int
    seconds: float


def recompute_case(case_id: int, *, as_of: datetime | None = None) -> int:
    """Replace the clocks of one case by those its events give now; return how many."""
    as_of = as_of or timezone.now()
    policies = active_policies()
    # The case row is locked and its events read inside the transaction that writes:
    # two recomputes of one case (two events in quick succession) then run one after
    # the other, the later one has read every event the earlier one had, so stale
    # clocks never overwrite fresh ones, and the second insert never meets the first
    # one's rows (a unique violation).
    with transaction.atomic(using=_alias()):
        _lock_cases(case_id, case_id)
        rows, _ = _derived_rows(case_id, case_id, policies, as_of)
        _replace_clocks(case_id, case_id, rows)
    return len(rows)


def recompute_organisation_cases(organisation_id: int) -> int:
    """Recompute the open cases of an organisation's contacts; return how many."""
    case_ids = list(
        Case.objects.filter(
            customer__organisation_id=organisation_id, status__in=OPEN_STATUSES
        ).values_list("pk", flat=True)
    )
    for case_id in case_ids:
        recompute_case(case_id)
    return len(case_ids)


def recompute_all(
    *,
    batch: int = DEFAULT_BATCH,
    as_of: datetime | None = None,
    first_id: int = 0,
    last_id: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> RebuildSummary:
    """Rebuild the clocks of every case (or those with ids in [first_id, last_id]).

    Cases are taken in id ranges of about `batch` cases, each range replaced in its own
    transaction, so a long rebuild never holds one huge transaction and readers see
    every case either with its old clocks or its new ones.
    """
    started = timezone.now()
    as_of = as_of or started
    policies = active_policies()
    cases = events = clocks = 0
    for low, high, count in _id_ranges(batch, first_id=first_id, last_id=last_id):
        read, written = _rebuild_range(low, high, policies, as_of)
        cases, events, clocks = cases + count, events + read, clocks + written
        if progress is not None:
            progress(count)
    seconds = (timezone.now() - started).total_seconds()
    return RebuildSummary(cases=cases, events=events, clocks=clocks, seconds=seconds)


def _rebuild_range(
    low: int, high: int, policies: Sequence[CompiledPolicy], as_of: datetime
) -> tuple[int, int]:
    """Derive the clocks of cases with ids in [low, high] and replace theirs; (events, clocks).

    The derivation runs outside the write transaction, so a rebuild holds SQLite's
    write lock only to write, and two processes derive while the other writes. A case
    that got an event meanwhile may have had a fresher recompute than what this range
    read: such cases (events past the last id seen before reading) are recomputed
    again, one by one, after the write.
    """
    seen_up_to = _last_event_id()
    with _cyclic_gc_paused():
        rows, events = _derived_rows(low, high, policies, as_of)
    with transaction.atomic(using=_alias()):
        _lock_cases(low, high)
        _replace_clocks(low, high, rows)
    for case_id in _cases_with_events_after(low, high, seen_up_to):
        recompute_case(case_id, as_of=as_of)
    return events, len(rows)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a range is derived.

    A range makes hundreds of thousands of tuples (facts, runs, rows), none in a cycle,
    and each few hundred of them set off a collection that walks the young ones: about
    5% of a rebuild's time. Whatever cycles the range made are collected after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _last_event_id() -> int:
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _cases_with_events_after(low: int, high: int, event_id: int) -> list[int]:
    newer = Event.objects.filter(case_id__gte=low, case_id__lte=high, pk__gt=event_id)
    return sorted(set(newer.values_list("case_id", flat=True)))


def _replace_clocks(low: int, high: int, rows: list[tuple[Any, ...]]) -> None:
    Clock.objects.filter(case_id__gte=low, case_id__lte=high).delete()
    _insert_clocks(rows)


def case_id_bounds() -> tuple[int, int] | None:
    """The smallest and largest case id, to split a rebuild between processes."""
    ids = Case.objects.order_by("pk").values_list("pk", flat=True)
    first, last = ids.first(), ids.last()
    return None if first is None or last is None else (first, last)


def _id_ranges(batch: int, *, first_id: int, last_id: int | None) -> Iterator[tuple[int, int, int]]:
    """(low, high, count) id ranges of up to `batch` cases each, read one range at a time."""
    ids = Case.objects.order_by("pk").values_list("pk", flat=True)
    if last_id is not None:
        ids = ids.filter(pk__lte=last_id)
    low = first_id
    while True:
        chunk = list(ids.filter(pk__gte=low)[:batch])
        if not chunk:
            return
        yield chunk[0], chunk[-1], len(chunk)
        low = chunk[-1] + 1


def _lock_cases(low: int, high: int) -> None:
    # Row locks on PostgreSQL; SQLite's IMMEDIATE transactions already hold the one lock.
    cases = Case.objects.select_for_update().filter(pk__gte=low, pk__lte=high).order_by("pk")
    list(cases.values_list("pk", flat=True))


def _derived_rows(
    low: int, high: int, policies: Sequence[CompiledPolicy], as_of: datetime
) -> tuple[list[tuple[Any, ...]], int]:
    traits = _case_traits(low, high)
    threads = _third_party_threads(low, high)
    to_db = _writer(connections[_alias()].vendor)
    computed_at = to_db(as_of)
    rows: list[tuple[Any, ...]] = []
    shared: dict[tuple[int, str], Targets] = {}
    events = 0
    for case_id, facts in _facts_by_case(low, high):
        events += len(facts)
        case = traits.get(case_id)
        policy = None if case is None else applicable_policy(policies, case)
        if policy is None or case is None:
            continue
        organisations = threads.get(case_id)
        if organisations:
            targets = policy.targets_for(case.priority, organisations)
        else:
            # Most cases have no third-party thread: their targets are one value per
            # policy and priority, made once per range rather than once per case.
            key = (policy.policy_id, case.priority)
            targets = shared.get(key) or shared.setdefault(
                key, policy.targets_for(case.priority, {})
            )
        policy_id = policy.policy_id
        rows += [
            _clock_row(case_id, policy_id, clock, to_db, computed_at)
            for clock in derive_clocks(facts, targets, as_of)
        ]
    return rows, events


def _alias() -> str:
    return router.db_for_write(Clock)


def _case_traits(low: int, high: int) -> dict[int, CaseTraits]:
    tags: dict[int, set[str]] = defaultdict(set)
    tagged = Case.tags.through.objects.filter(case_id__gte=low, case_id__lte=high)
    for case_id, name in tagged.values_list("case_id", "tag__name").iterator():
        tags[case_id].add(name)
    cases = Case.objects.filter(pk__gte=low, pk__lte=high).values_list(
        "pk", "priority", "channel", "category", "sensitivity", "customer__organisation__tier"
    )
    return {
        pk: CaseTraits(
            tier=tier or "standard",
            priority=priority,
            channel=channel,
            category=category,
            tags=frozenset(tags.get(pk, ())),
            sensitivity=sensitivity,
        )
        for pk, priority, channel, category, sensitivity, tier in cases.iterator()
    }


def _third_party_threads(low: int, high: int) -> dict[int, dict[int, int | None]]:
    threads = Thread.objects.filter(
        case_id__gte=low, case_id__lte=high, party=Party.THIRD_PARTY
    ).values_list("case_id", "pk", "contact__organisation_id")
    by_case: dict[int, dict[int, int | None]] = defaultdict(dict)
    for case_id, thread_id, organisation_id in threads.iterator():
        by_case[case_id][thread_id] = organisation_id
    return by_case


# One row per event with the payload keys the derivation reads. Written by hand rather
# than with KT(): Django's SQLite form of KT() costs three JSON calls per key, `->>` one
# (SQLite 3.38+; PostgreSQL reads the same operators on jsonb), and each key is read
# only for the kinds whose facts use it (parsing the payload is most of the query's time). On
# SQLite the time is read as text: parsing it here is cheaper than the driver's
# converter. Only the kinds the derivation looks at are read: notes, tags, categories
# and the like are a fifth of a seeded case's events and change no clock.
_EVENT_ROWS = """
SELECT e.case_id, e.kind, {at}, e.thread_id, e.actor_id IS NOT NULL, e.message_id,
       CASE WHEN e.kind IN ('message_received', 'message_sent')
            THEN COALESCE(e.payload ->> 'party', '') ELSE '' END,
       CASE WHEN e.kind IN ('case_opened', 'status_changed')
            THEN COALESCE(e.payload ->> 'new', e.payload ->> 'status', '') ELSE '' END,
       CASE WHEN e.kind IN ('case_opened', 'team_changed')
            THEN COALESCE(e.payload -> 'new' ->> 'id', e.payload -> 'team' ->> 'id') END,
       CASE WHEN e.kind = 'call_logged' THEN e.payload ->> 'reached_party' END,
       COALESCE(m.is_automated, FALSE)
FROM {event} e LEFT OUTER JOIN {message} m ON m.id = e.message_id
WHERE e.case_id >= %s AND e.case_id <= %s AND e.kind IN ({kinds})
ORDER BY e.case_id, e.created_at, e.id
"""


def _event_rows_query(vendor: str, low: int, high: int) -> tuple[str, tuple[Any, ...]]:
    sql = _EVENT_ROWS.format(
        at="CAST(e.created_at AS TEXT)" if vendor == "sqlite" else "e.created_at",
        event=Event._meta.db_table,
        message=Message._meta.db_table,
        kinds=", ".join(["%s"] * len(DERIVED_KINDS)),
    )
    return sql, (low, high, *DERIVED_KINDS)


def _facts_by_case(low: int, high: int) -> Iterator[tuple[int, list[Fact]]]:
    """Each case's events as Facts, in time order, straight from the cursor."""
    connection = connections[router.db_for_read(Event)]
    to_time = _reader(connection.vendor)
    sql, params = _event_rows_query(connection.vendor, low, high)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for case_id, rows in groupby(_fetched(cursor), key=_first):
            # Inline rather than a function per row: this loop runs once per event.
            yield (
                case_id,
                [
                    Fact(
                        kind,
                        to_time(at),
                        thread_id,
                        party,
                        bool(automated),
                        bool(by_agent),
                        status,
                        None if team is None else int(team),
                        message_id,
                        reached not in _NOT_REACHED,
                    )
                    for (
                        _,
                        kind,
                        at,
                        thread_id,
                        by_agent,
                        message_id,
                        party,
                        status,
                        team,
                        reached,
                        automated,
                    ) in rows
                ],
            )


def _fetched(cursor: Any) -> Iterator[tuple[Any, ...]]:
    while chunk := cursor.fetchmany(_FETCH):
        yield from chunk


def _first(row: tuple[Any, ...]) -> int:
    return int(row[0])


_NOT_REACHED = frozenset({0, "0", "false"})


def _reader(vendor: str) -> Callable[[Any], datetime]:
    """Database time to an aware UTC datetime (SQLite keeps naive UTC, as Django writes it)."""
    if vendor == "sqlite":
        return _from_sqlite
    return _identity


def _from_sqlite(value: str) -> datetime:
    return datetime.fromisoformat(value + "+00:00")


def _identity(value: Any) -> datetime:
    return value  # type: ignore[no-any-return]


def _writer(vendor: str) -> Callable[[datetime | None], Any]:
    """Aware UTC datetimes to the database's form, remembering each one it formats.

    One writer serves one range: a case's clocks share most of their instants (four
    start at its opening), so most times are formatted once and looked up after.
    """
    if vendor != "sqlite":
        return _identity_or_none
    formatted: dict[datetime, str | None] = {}

    def to_sqlite(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = formatted.get(value)
        if text is None:
            text = formatted[value] = _to_sqlite(value)
        return text

    return to_sqlite


def _to_sqlite(value: datetime | None) -> str | None:
    """Django's SQLite form: naive UTC in ISO format (every time here is already UTC)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]


def _identity_or_none(value: datetime | None) -> datetime | None:
    return value


# Plain strings for the driver, looked up once per clock rather than through the enum.
_METRIC_VALUES = {metric: metric.value for metric in Metric}
_STATE_VALUES = {state: state.value for state in State}


def _clock_row(
    case_id: int,
    policy_id: int,
    clock: ClockSnapshot,
    to_db: Callable[[datetime | None], Any],
    computed_at: Any,
) -> tuple[Any, ...]:
    """A clock as the row `_insert_clocks` writes, its times already in the database's form."""
    (metric, thread_id, state, started_at, due_at, stopped_at, breached_at,
     elapsed_seconds, cycles, breaches) = clock  # fmt: skip
    return (
        case_id,
        _METRIC_VALUES[metric],
        thread_id,
        policy_id,
        _STATE_VALUES[state],
        to_db(started_at),
        to_db(due_at),
        to_db(stopped_at),
        to_db(breached_at),
        elapsed_seconds,
        cycles,
        breaches,
        computed_at,
    )


def _insert_clocks(rows: list[tuple[Any, ...]]) -> None:
    """Insert clock rows without model instances (see the module doc).

    PostgreSQL takes them with one COPY: an INSERT per row costs it about 45 µs a row
    even pipelined, COPY a few. SQLite takes one executemany.
    """
    if not rows:
        return
    connection = connections[_alias()]
    table = connection.ops.quote_name(Clock._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in _CLOCK_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(_CLOCK_COLUMNS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(sql, rows)
