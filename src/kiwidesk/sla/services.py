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
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from kiwidesk.cases.models import Case, Event, Message, Party, Thread
from kiwidesk.sla import calendar as business_time
from kiwidesk.sla.metrics import DERIVED_KINDS, Fact, Metric, State, Targets, derive_raw
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
    now = business_time.to_micros(as_of)
    computed_at = to_db[now]
    metrics, states = _METRIC_VALUES, _STATE_VALUES
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
        # The row `_insert_clocks` writes, inline: this runs for every clock of a rebuild.
        rows += [
            (case_id, metrics[metric], thread_id, policy_id, states[state], to_db[started_at],
             to_db[due_at], to_db[stopped_at], to_db[breached_at], elapsed, cycles, breaches,
             computed_at)
            for (metric, thread_id, state, started_at, due_at, stopped_at, breached_at, elapsed,
                 cycles, breaches) in derive_raw(facts, targets, now)
        ]  # fmt: skip
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
# only for the kinds whose facts use it (parsing the payload is most of the query's time).
# The time comes as microseconds since 1970, computed by the database: cheaper than
# making a datetime per event here. Only the kinds the derivation looks at are read:
# notes, tags, categories and the like are a fifth of a seeded case's events and change
# no clock.
_EVENT_ROWS = """
SELECT e.kind, {micros}, e.thread_id, COALESCE(t.party, ''), COALESCE(m.is_automated, FALSE),
       e.actor_id IS NOT NULL,
       CASE e.kind WHEN 'status_changed' THEN e.payload ->> 'new'
                   WHEN 'case_opened' THEN e.payload ->> 'status' ELSE '' END,
       CAST(CASE e.kind WHEN 'team_changed' THEN e.payload {new_team}
                        WHEN 'case_opened' THEN e.payload {first_team} END AS BIGINT),
       e.message_id,
       CASE WHEN e.kind = 'call_logged'
            THEN CAST(COALESCE(e.payload ->> 'reached_party', 'true') AS TEXT)
                 NOT IN ('0', 'false')
            ELSE TRUE END,
       e.case_id
FROM {event} e
LEFT OUTER JOIN {message} m ON m.id = e.message_id
LEFT OUTER JOIN {thread} t ON t.id = e.thread_id AND e.kind IN ('message_received', 'message_sent')
WHERE e.case_id >= %s AND e.case_id <= %s AND e.kind IN ({kinds})
ORDER BY e.case_id, e.created_at, e.id
"""
# Per database: the time as microseconds since 1970 (Django keeps SQLite times as naive
# UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]", the fraction only when there is one, always
# six digits), and a team's id from the payload with one JSON path each (SQLite 3.40
# parses the payload again for every operator).
_VENDOR_SQL = {
    "sqlite": {
        "micros": "CAST(strftime('%%s', e.created_at) AS INTEGER) * 1000000"
        " + CAST(substr(e.created_at, 21, 6) AS INTEGER)",
        "new_team": "->> '$.new.id'",
        "first_team": "->> '$.team.id'",
    },
    "postgresql": {
        "micros": "CAST(EXTRACT(EPOCH FROM e.created_at) * 1000000 AS BIGINT)",
        "new_team": "#>> '{{new,id}}'",
        "first_team": "#>> '{{team,id}}'",
    },
}


def _event_rows_query(vendor: str, low: int, high: int) -> tuple[str, tuple[Any, ...]]:
    sql = _EVENT_ROWS.format(
        **_VENDOR_SQL[vendor],
        event=Event._meta.db_table,
        message=Message._meta.db_table,
        thread=Thread._meta.db_table,
        kinds=", ".join(["%s"] * len(DERIVED_KINDS)),
    )
    return sql, (low, high, *DERIVED_KINDS)


def _facts_by_case(low: int, high: int) -> Iterator[tuple[int, list[Fact]]]:
    """Each case's events as Facts, in time order, straight from the cursor.

    The query gives each row in the order of Fact's fields, so a row becomes a Fact
    without a call per field: this runs once per event of a rebuild.
    """
    connection = connections[router.db_for_read(Event)]
    sql, params = _event_rows_query(connection.vendor, low, high)
    make = Fact._make
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for case_id, rows in groupby(_fetched(cursor), key=_case_of):
            yield case_id, list(map(make, rows))


def _fetched(cursor: Any) -> Iterator[tuple[Any, ...]]:
    while chunk := cursor.fetchmany(_FETCH):
        yield from chunk


def _case_of(row: tuple[Any, ...]) -> int:
    return int(row[-1])


class _Formatted(dict[int | None, Any]):
    """Microseconds to the database's form, each instant formatted once per range.

    A case's clocks share most of their instants (four start at its opening), so most
    are looked up rather than formatted; `None` stays `None`.
    """

    def __init__(self, form: Callable[[int], Any]) -> None:
        super().__init__({None: None})
        self._form = form

    def __missing__(self, moment: int) -> Any:
        value = self[moment] = self._form(moment)
        return value


def _writer(vendor: str) -> _Formatted:
    return _Formatted(_sqlite_text if vendor == "sqlite" else business_time.from_micros)


_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 (Django keeps SQLite times naive)


def _sqlite_text(moment: int) -> str:
    """Django's SQLite form of an instant: naive UTC in ISO format (a naive datetime's
    text costs half an aware one's, which needs its offset cut off again)."""
    return (_NAIVE_EPOCH + timedelta(microseconds=moment)).isoformat(" ")


# Plain strings for the driver, looked up once per clock rather than through the enum.
_METRIC_VALUES = {metric: metric.value for metric in Metric}
_STATE_VALUES = {state: state.value for state in State}


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
