"""Properties of business time that hold for every calendar, instant and duration.

Calendars are drawn in zones with daylight saving (Europe/Berlin, America/New_York, America/Santiago
whose clocks jump at midnight, Australia/Lord_Howe whose clocks move by half an hour) and without,
with up to three openings a day (overnight ones included) and up to thirty closed dates; instants
are drawn from 2024 to 2029, leap day included, in several zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from kiwidesk.sla.calendar import Calendar, Interval, add, between, is_open, next_open

ZONES_WITH_DAYLIGHT_SAVING = [
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
]
ZONES_WITHOUT = ["UTC", "Asia/Kolkata", "Asia/Kathmandu"]
MICROSECOND = timedelta(microseconds=1)

times_of_day = st.one_of(
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.times(),
)
openings = st.builds(Interval, times_of_day, times_of_day)
weeks = st.dictionaries(
    st.integers(0, 6), st.lists(openings, min_size=1, max_size=3).map(tuple), min_size=1
)
closed_dates = st.frozensets(st.dates(date(2023, 6, 1), date(2030, 6, 1)), max_size=30)


def calendars_in(zones: list[str]) -> st.SearchStrategy[Calendar]:
    return st.builds(Calendar, st.sampled_from(zones), weeks, closed_dates)


calendars = st.one_of(
    calendars_in(ZONES_WITH_DAYLIGHT_SAVING + ZONES_WITHOUT), st.just(Calendar.always())
)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001
    max_value=datetime(2029, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, *map(ZoneInfo, ZONES_WITH_DAYLIGHT_SAVING)]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5))


def in_order(*moments: datetime) -> list[datetime]:
    """Sorted by the instant they name: Python compares two datetimes of the same zone by wall
    time, which puts the two occurrences of a repeated hour in the wrong order."""
    return sorted(moments, key=lambda moment: moment.astimezone(UTC))


def elapsed_time(start: datetime, end: datetime) -> timedelta:
    """Real time passed; subtracting datetimes of the same zone would give wall-clock time."""
    return end.astimezone(UTC) - start.astimezone(UTC)


# Each new calendar is compiled on first use (a few milliseconds a year of hours).
properties = settings(deadline=None)


@properties
@given(calendars, instants, instants)
def test_adding_the_business_time_between_two_instants_lands_on_the_seconds_next_opening(
    calendar: Calendar, first: datetime, second: datetime
) -> None:
    """For every ``a <= b``, open or closed: the business time from ``a`` to ``b`` is used up
    exactly when ``b`` is reached, and ``add`` gives the next instant that time runs again."""
    start, end = in_order(first, second)

    landed = add(calendar, start, between(calendar, start, end))

    assert landed == next_open(calendar, end)


@properties
@given(calendars, instants, durations)
def test_the_business_time_up_to_an_added_duration_is_that_duration(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    due = add(calendar, start, duration)

    assert between(calendar, start, due) == duration


@properties
@given(calendars, instants, instants, instants)
def test_business_time_over_two_adjoining_stretches_adds_up(
    calendar: Calendar, first: datetime, second: datetime, third: datetime
) -> None:
    start, middle, end = in_order(first, second, third)

    parts = between(calendar, start, middle) + between(calendar, middle, end)

    assert parts == between(calendar, start, end)


@properties
@given(calendars, instants, instants, durations)
def test_a_later_start_never_gives_an_earlier_due_instant(
    calendar: Calendar, first: datetime, second: datetime, duration: timedelta
) -> None:
    earlier, later = in_order(first, second)

    dues = (add(calendar, earlier, duration), add(calendar, later, duration))

    assert elapsed_time(*dues) >= timedelta(0)


@properties
@given(calendars, instants, durations, durations)
def test_a_longer_duration_never_gives_an_earlier_due_instant(
    calendar: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))

    dues = (add(calendar, start, shorter), add(calendar, start, longer))

    assert elapsed_time(*dues) >= timedelta(0)


@properties
@given(calendars, instants, durations)
def test_adding_business_time_always_lands_on_an_open_instant(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    due = add(calendar, start, duration)

    assert is_open(calendar, due)


@properties
@given(calendars, instants)
def test_the_next_opening_is_open_and_no_business_time_passes_before_it(
    calendar: Calendar, instant: datetime
) -> None:
    found = next_open(calendar, instant)

    assert (
        elapsed_time(instant, found) >= timedelta(0),
        is_open(calendar, found),
        between(calendar, instant, found),
    ) == (
        True,
        True,
        timedelta(0),
    )


@properties
@given(calendars, instants)
def test_one_microsecond_counts_exactly_when_the_calendar_is_open(
    calendar: Calendar, instant: datetime
) -> None:
    # Added in UTC: adding to a local datetime is wall-clock arithmetic.
    counted = between(calendar, instant, instant.astimezone(UTC) + MICROSECOND)

    assert counted == MICROSECOND * is_open(calendar, instant)


@properties
@given(calendars, instants, instants)
def test_business_time_never_exceeds_the_time_that_passed(
    calendar: Calendar, first: datetime, second: datetime
) -> None:
    start, end = in_order(first, second)

    elapsed = between(calendar, start, end)

    assert timedelta(0) <= elapsed <= elapsed_time(start, end)


@properties
@given(instants, instants)
def test_an_always_open_calendar_counts_all_the_time_that_passed(
    first: datetime, second: datetime
) -> None:
    start, end = in_order(first, second)

    elapsed = between(Calendar.always(), start, end)

    assert elapsed == elapsed_time(start, end)


@properties
@given(calendars_in(ZONES_WITHOUT), instants)
def test_open_exactly_when_a_shift_that_started_on_an_open_day_covers_the_local_time(
    calendar: Calendar, instant: datetime
) -> None:
    """A direct reading of the hours, in zones whose clocks never change, so wall time is
    simple: the opening of the local day, or an overnight one of the day before."""
    local = instant.astimezone(ZoneInfo(calendar.timezone)).replace(tzinfo=None)
    days = (local.date(), local.date() - timedelta(days=1))

    expected = any(
        day not in calendar.closed_dates
        and datetime.combine(day, opening.start)
        <= local
        < datetime.combine(day + timedelta(days=opening.overnight), opening.end)
        for day in days
        for opening in calendar.weekly.get(day.weekday(), ())
    )

    assert is_open(calendar, instant) == expected
