"""Properties of measuring runs: the cheap breach count agrees with the full measure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kiwidesk.sla.calendar import Calendar, Interval, to_micros
from kiwidesk.sla.metrics import SECOND, Run, State, Target, count_breaches, evaluate

START = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)  # a Friday, two days before clocks go forward
MINUTE = 60 * SECOND
OFFICE_HOURS = Calendar(
    "Europe/Berlin",
    {day: (Interval(time(9), time(12)), Interval(time(13), time(17))) for day in range(5)},
    frozenset({date(2026, 3, 30)}),
)


@st.composite
def stopped_runs(draw: st.DrawFn) -> Run:
    """A stopped run of one to four spans with gaps between them, in minutes."""
    cuts = sorted(draw(st.lists(st.integers(0, 60 * 24 * 6), min_size=2, max_size=8, unique=True)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    spans = tuple(
        (to_micros(START) + cuts[i] * MINUTE, to_micros(START) + cuts[i + 1] * MINUTE)
        for i in range(0, len(cuts), 2)
    )
    return Run(spans[0][0], spans, spans[-1][1])


@given(run=stopped_runs(), minutes=st.integers(0, 60 * 30), business=st.booleans())
def test_a_stopped_run_counts_as_breached_exactly_when_its_measure_says_breached(
    run: Run, minutes: int, business: bool
) -> None:
    target = Target(seconds=minutes * 60, is_business_time=business)
    as_of = to_micros(START + timedelta(days=10))

    measured = evaluate(run, target, OFFICE_HOURS, as_of).state is State.BREACHED

    assert count_breaches([run], target, OFFICE_HOURS) == int(measured)
