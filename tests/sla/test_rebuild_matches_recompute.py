"""A full rebuild writes exactly the clocks that recomputing each case on its own writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kiwidesk.cases.models import Case
from kiwidesk.seed.load import seed_database
from kiwidesk.seed.sla import seed_sla
from kiwidesk.sla.calendar import Calendar, to_micros
from kiwidesk.sla.metrics import (
    DERIVED_KINDS,
    SECOND,
    Fact,
    Metric,
    Run,
    Target,
    Targets,
    derive_clocks,
    evaluate,
    snapshot,
)
from kiwidesk.sla.models import Clock
from kiwidesk.sla.services import recompute_all, recompute_case

SEEDED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
AS_OF = SEEDED_AT + timedelta(hours=3)
COLUMNS = (
    "case_id", "metric", "thread_id", "policy_id", "state", "started_at", "due_at",
    "stopped_at", "breached_at", "elapsed_seconds", "cycles", "breaches",
)  # fmt: skip


def stored_clocks() -> list[tuple[Any, ...]]:
    return list(Clock.objects.order_by("case_id", "metric", "thread_id").values_list(*COLUMNS))


def test_a_full_rebuild_gives_the_rows_of_a_recompute_per_case(db: None) -> None:
    # Both demo policies: calendar hours for VIP cases, business hours for the rest.
    seed_database(cases=120, messages=700, seed=11, now=int(SEEDED_AT.timestamp()))
    seed_sla(cases=120)
    recompute_all(batch=17, as_of=AS_OF)
    rebuilt = stored_clocks()
    Clock.objects.all().delete()

    for case_id in Case.objects.order_by("pk").values_list("pk", flat=True):
        recompute_case(case_id, as_of=AS_OF)

    assert stored_clocks() == rebuilt
    assert {row[1] for row in rebuilt} == {metric.value for metric in Metric}


START = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)
MINUTE = 60 * SECOND


def at(minutes: int) -> int:
    return to_micros(START) + minutes * MINUTE


@st.composite
def one_span_runs(draw: st.DrawFn) -> Run:
    """A run of one span: still running, paused (span ended, run not), or stopped."""
    begin = to_micros(START) + draw(st.integers(0, 60 * 24)) * MINUTE
    shape = draw(st.sampled_from(["running", "paused", "stopped"]))
    if shape == "running":
        return Run(begin, ((begin, None),), None)
    end = begin + draw(st.integers(0, 60 * 60 * 30)) * SECOND
    return Run(begin, ((begin, end),), end if shape == "stopped" else None)


@given(run=one_span_runs(), minutes=st.integers(0, 60 * 30), wait=st.integers(0, 60 * 60 * 40))
def test_a_one_span_clock_in_calendar_hours_measures_as_the_full_evaluation(
    run: Run, minutes: int, wait: int
) -> None:
    target = Target(seconds=minutes * 60, is_business_time=False)
    as_of = (run.spans[0][1] or run.started_at) + wait * SECOND

    clock = snapshot(Metric.RESOLUTION, [run], target, Calendar.always(), as_of)

    measure = evaluate(run, target, Calendar.always(), as_of)
    assert (clock.state, clock.due_at, clock.breached_at, clock.elapsed_seconds) == tuple(measure)


THIRD_PARTY_THREAD = 7
TIMELINE = [
    Fact("case_opened", at(0), status="new", team_id=1),
    Fact("message_received", at(1), thread_id=1, party="customer"),
    Fact("message_sent", at(20), 1, "customer", by_agent=True),
    Fact("status_changed", at(21), status="pending_customer"),
    Fact("message_sent", at(30), THIRD_PARTY_THREAD, "third_party"),
    Fact("message_received", at(90), thread_id=1, party="customer"),
    Fact("status_changed", at(90), status="open"),
    Fact("team_changed", at(95), team_id=2),
    Fact("status_changed", at(300), status="solved"),
]
EVERY_METRIC = Targets(
    by_metric={metric: Target(3600, is_business_time=False) for metric in Metric},
    calendar=Calendar.always(),
    third_party={None: Target(3600, is_business_time=False)},
)
OTHER_KINDS = ["note_added", "assigned", "category_changed", "thread_opened", "due_changed"]


@given(
    extra=st.lists(
        st.tuples(st.integers(0, len(TIMELINE) - 1), st.sampled_from(OTHER_KINDS)), max_size=6
    )
)
def test_events_of_kinds_no_metric_reads_change_no_clock(extra: list[tuple[int, str]]) -> None:
    # The rebuild reads only metrics.DERIVED_KINDS: any other event, wherever it falls and
    # whatever it carries, must leave every clock as it is.
    timeline = list(TIMELINE)
    for position, kind in sorted(extra, reverse=True):
        at = timeline[position].at
        timeline.insert(
            position + 1,
            Fact(kind, at, 1, "customer", by_agent=True, status="solved", team_id=3),
        )
    as_of = START + timedelta(hours=8)

    with_others = derive_clocks(timeline, EVERY_METRIC, as_of)

    assert with_others == derive_clocks(TIMELINE, EVERY_METRIC, as_of)
    assert {kind for kind, *_ in TIMELINE} == set(DERIVED_KINDS) - {"call_logged"}
