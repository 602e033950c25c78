"""Named examples of business time: opening hours, overnight shifts, holidays, daylight saving."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiwidesk.sla import calendar as calendar_module
from kiwidesk.sla.calendar import Calendar, Interval, WeeklyHours, add, between, is_open, next_open

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE_DAY = (Interval(time(9), time(17)),)
WITH_LUNCH = (Interval(time(9), time(12)), Interval(time(13), time(17)))
HOUR = timedelta(hours=1)


def office(zone: str = "Europe/Berlin", **kwargs: Any) -> Calendar:
    """Monday to Friday, 09:00 to 17:00."""
    return Calendar(zone, dict.fromkeys(range(5), OFFICE_DAY), **kwargs)


berlin = partial(datetime, tzinfo=BERLIN)
new_york = partial(datetime, tzinfo=NEW_YORK)
utc = partial(datetime, tzinfo=UTC)


# Opening hours


def test_business_time_within_one_day_counts_only_open_hours() -> None:
    calendar = office()

    elapsed = between(calendar, berlin(2026, 11, 23, 7), berlin(2026, 11, 23, 10, 30))

    assert elapsed == timedelta(hours=1, minutes=30)


def test_business_time_skips_the_weekend() -> None:
    calendar = office()

    elapsed = between(calendar, berlin(2026, 11, 20, 16), berlin(2026, 11, 23, 10))

    assert elapsed == 2 * HOUR


def test_business_time_is_zero_when_the_end_is_not_after_the_start() -> None:
    calendar = office()

    elapsed = between(calendar, berlin(2026, 11, 23, 12), berlin(2026, 11, 23, 10))

    assert elapsed == timedelta(0)


def test_a_lunch_break_between_two_openings_is_not_business_time() -> None:
    calendar = Calendar("Europe/Berlin", {0: WITH_LUNCH})

    elapsed = between(calendar, berlin(2026, 11, 23, 11), berlin(2026, 11, 23, 14))

    assert elapsed == 2 * HOUR


def test_adding_business_time_continues_after_the_lunch_break() -> None:
    calendar = Calendar("Europe/Berlin", {0: WITH_LUNCH})

    due = add(calendar, berlin(2026, 11, 23, 11), 2 * HOUR)

    assert due == berlin(2026, 11, 23, 14)


def test_adding_business_time_on_friday_afternoon_lands_on_monday() -> None:
    calendar = office()

    due = add(calendar, berlin(2026, 11, 20, 16), 3 * HOUR)

    assert due == berlin(2026, 11, 23, 11)


def test_business_time_used_up_at_closing_lands_on_the_next_opening() -> None:
    calendar = office()

    due = add(calendar, berlin(2026, 11, 23, 9), 8 * HOUR)

    assert due == berlin(2026, 11, 24, 9)


def test_adding_nothing_in_closed_hours_gives_the_next_opening() -> None:
    calendar = office()

    due = add(calendar, berlin(2026, 11, 21, 12), timedelta(0))

    assert due == berlin(2026, 11, 23, 9)


def test_adding_negative_business_time_is_refused() -> None:
    calendar = office()

    with pytest.raises(ValueError, match="must not be negative"):
        add(calendar, berlin(2026, 11, 23, 9), -HOUR)


def test_the_opening_instant_is_open_and_the_closing_instant_is_not() -> None:
    calendar = office()

    states = [is_open(calendar, berlin(2026, 11, 23, hour)) for hour in (9, 17)]

    assert states == [True, False]


def test_next_business_instant_of_an_open_instant_is_itself() -> None:
    calendar = office()

    found = next_open(calendar, berlin(2026, 11, 23, 10, 15, 30, 7))

    assert found == berlin(2026, 11, 23, 10, 15, 30, 7)


def test_next_business_instant_at_closing_time_is_the_next_morning() -> None:
    calendar = office()

    found = next_open(calendar, berlin(2026, 11, 23, 17))

    assert found == berlin(2026, 11, 24, 9)


def test_results_are_in_utc_whatever_zone_the_input_is_in() -> None:
    calendar = office()

    found = next_open(calendar, new_york(2026, 11, 21, 12))

    assert (found.tzinfo, found) == (UTC, utc(2026, 11, 23, 8))


def test_the_same_instants_in_other_zones_give_the_same_business_time() -> None:
    calendar = office()

    in_berlin = between(calendar, berlin(2026, 11, 23, 8), berlin(2026, 11, 24, 12))
    in_new_york = between(calendar, new_york(2026, 11, 23, 2), new_york(2026, 11, 24, 6))

    assert (in_berlin, in_new_york) == (11 * HOUR, 11 * HOUR)


def test_hours_are_read_in_the_calendars_own_time_zone() -> None:
    calendar = office("America/New_York")

    opening = next_open(calendar, berlin(2026, 11, 23, 9))

    assert opening == new_york(2026, 11, 23, 9)


def test_openings_that_overlap_count_once() -> None:
    calendar = Calendar("UTC", {0: (Interval(time(9), time(13)), Interval(time(12), time(15)))})

    elapsed = between(calendar, utc(2026, 11, 23), utc(2026, 11, 24))

    assert elapsed == 6 * HOUR


# Overnight shifts


def test_an_overnight_shift_belongs_to_the_day_it_starts() -> None:
    calendar = Calendar("Europe/Berlin", {4: (Interval(time(22), time(6)),)})

    states = [is_open(calendar, berlin(2026, 11, day, 3)) for day in (21, 22)]

    assert states == [True, False]


def test_an_overnight_shift_counts_its_hours_on_both_sides_of_midnight() -> None:
    calendar = Calendar("Europe/Berlin", {4: (Interval(time(22), time(6)),)})

    elapsed = between(calendar, berlin(2026, 11, 20), berlin(2026, 11, 23))

    assert elapsed == 8 * HOUR


def test_a_shift_from_midnight_to_midnight_is_the_whole_day() -> None:
    calendar = Calendar("UTC", {2: (Interval(time(0), time(0)),)})

    elapsed = between(calendar, utc(2026, 11, 23), utc(2026, 11, 30))

    assert elapsed == 24 * HOUR


# Always open


def test_an_always_open_calendar_counts_wall_clock_time() -> None:
    calendar = Calendar.always()

    elapsed = between(calendar, berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12))

    assert elapsed == 23 * HOUR


def test_an_always_open_calendar_counts_years_exactly() -> None:
    calendar = Calendar.always()

    elapsed = between(calendar, utc(2020, 1, 1), utc(2030, 1, 1, 0, 0, 0, 1))

    assert elapsed == timedelta(days=3653, microseconds=1)


def test_an_always_open_calendar_adds_wall_clock_time() -> None:
    calendar = Calendar.always()

    due = add(calendar, utc(2024, 2, 28, 12), timedelta(days=800, microseconds=3))

    assert due == utc(2026, 5, 8, 12, 0, 0, 3)


def test_whole_days_every_day_in_a_local_zone_are_one_stretch_of_open_time() -> None:
    calendar = Calendar("Europe/Berlin", dict.fromkeys(range(7), (Interval(time(0), time(0)),)))

    found = next_open(calendar, berlin(2026, 11, 24, 0))

    assert found == berlin(2026, 11, 24, 0)


# Holidays and closed dates


def test_a_public_holiday_closes_the_whole_day() -> None:
    calendar = Calendar.with_holidays(
        timezone="Europe/Berlin", weekly=dict.fromkeys(range(5), OFFICE_DAY), country="DE"
    )

    elapsed = between(calendar, berlin(2026, 12, 24), berlin(2026, 12, 29))

    assert elapsed == 16 * HOUR


def test_holidays_of_a_subdivision_close_only_there() -> None:
    weekly = dict.fromkeys(range(5), OFFICE_DAY)
    bavaria = Calendar.with_holidays(
        timezone="Europe/Berlin", weekly=weekly, country="DE", subdivision="BY"
    )
    hamburg = Calendar.with_holidays(
        timezone="Europe/Berlin", weekly=weekly, country="DE", subdivision="HH"
    )

    states = [is_open(calendar, berlin(2026, 1, 6, 10)) for calendar in (bavaria, hamburg)]

    assert states == [False, True]


def test_extra_closed_dates_close_like_holidays() -> None:
    calendar = Calendar.with_holidays(
        timezone="America/New_York",
        weekly=dict.fromkeys(range(5), OFFICE_DAY),
        country="US",
        subdivision="NY",
        extra=[date(2026, 11, 27)],
    )

    found = next_open(calendar, new_york(2026, 11, 26, 10))

    assert found == new_york(2026, 11, 30, 9)


def test_holidays_are_taken_for_the_years_asked_for() -> None:
    calendar = Calendar.with_holidays(
        timezone="Europe/Berlin",
        weekly=dict.fromkeys(range(5), OFFICE_DAY),
        country="DE",
        years=[2030],
    )

    states = [is_open(calendar, berlin(year, 12, 25, 10)) for year in (2026, 2030)]

    assert states == [True, False]


@pytest.mark.parametrize(
    ("country", "subdivision"), [("XX", None), ("DE", "ZZ")], ids=["country", "subdivision"]
)
def test_an_unknown_country_or_subdivision_is_refused(country: str, subdivision: str) -> None:
    weekly = dict.fromkeys(range(5), OFFICE_DAY)

    with pytest.raises(ValueError, match=subdivision or country):
        Calendar.with_holidays(
            timezone="Europe/Berlin", weekly=weekly, country=country, subdivision=subdivision
        )


def test_a_night_shift_that_starts_before_a_holiday_runs_until_its_end() -> None:
    calendar = Calendar(
        "Europe/Berlin",
        dict.fromkeys(range(7), (Interval(time(22), time(6)),)),
        closed_dates=frozenset({date(2026, 12, 25)}),
    )

    elapsed = between(calendar, berlin(2026, 12, 24, 12), berlin(2026, 12, 26, 12))

    assert elapsed == 8 * HOUR


def test_a_night_shift_that_starts_on_a_holiday_does_not_run_after_midnight() -> None:
    calendar = Calendar(
        "Europe/Berlin",
        dict.fromkeys(range(7), (Interval(time(22), time(6)),)),
        closed_dates=frozenset({date(2026, 12, 25)}),
    )

    found = next_open(calendar, berlin(2026, 12, 26, 2))

    assert found == berlin(2026, 12, 26, 22)


def test_a_long_closure_is_skipped_by_every_operation() -> None:
    first, last = date(2026, 1, 1), date(2028, 6, 30)
    closed = frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))
    calendar = office(closed_dates=closed)

    reopening = next_open(calendar, berlin(2025, 12, 31, 17))
    due = add(calendar, berlin(2025, 12, 31, 16), 2 * HOUR)
    elapsed = between(calendar, berlin(2025, 12, 31, 16), berlin(2028, 7, 3, 10))

    assert (reopening, due, elapsed) == (berlin(2028, 7, 3, 9), berlin(2028, 7, 3, 10), 2 * HOUR)


def test_a_long_closure_counts_no_business_time() -> None:
    first, last = date(2026, 1, 1), date(2028, 6, 30)
    closed = frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))
    calendar = office(closed_dates=closed)

    elapsed = between(calendar, berlin(2025, 12, 31, 17), berlin(2028, 7, 3, 8))

    assert elapsed == timedelta(0)


# Daylight saving


def test_an_opening_across_spring_forward_is_an_hour_shorter_in_berlin() -> None:
    calendar = Calendar("Europe/Berlin", {6: (Interval(time(0), time(6)),)})

    elapsed = between(calendar, berlin(2026, 3, 29), berlin(2026, 3, 30))

    assert elapsed == 5 * HOUR


def test_an_opening_across_fall_back_is_an_hour_longer_in_berlin() -> None:
    calendar = Calendar("Europe/Berlin", {6: (Interval(time(0), time(6)),)})

    elapsed = between(calendar, berlin(2026, 10, 25), berlin(2026, 10, 26))

    assert elapsed == 7 * HOUR


def test_an_opening_across_spring_forward_is_an_hour_shorter_in_new_york() -> None:
    calendar = Calendar("America/New_York", {5: (Interval(time(22), time(6)),)})

    elapsed = between(calendar, new_york(2026, 3, 7), new_york(2026, 3, 9))

    assert elapsed == 7 * HOUR


def test_an_opening_across_fall_back_is_an_hour_longer_in_new_york() -> None:
    calendar = Calendar("America/New_York", {5: (Interval(time(22), time(6)),)})

    elapsed = between(calendar, new_york(2026, 10, 31), new_york(2026, 11, 2))

    assert elapsed == 9 * HOUR


def test_an_opening_in_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    calendar = Calendar("America/New_York", {6: (Interval(time(2, 30), time(4)),)})

    found = next_open(calendar, new_york(2026, 3, 8))

    assert found == utc(2026, 3, 8, 7)


def test_an_opening_inside_the_skipped_hour_does_not_happen_that_day() -> None:
    calendar = Calendar("Europe/Berlin", {6: (Interval(time(2, 15), time(2, 45)),)})

    found = next_open(calendar, berlin(2026, 3, 29))

    assert found == berlin(2026, 4, 5, 2, 15)


def test_an_opening_at_a_repeated_wall_time_starts_at_its_first_occurrence() -> None:
    calendar = Calendar("Europe/Berlin", {6: (Interval(time(2, 30), time(4)),)})

    found = next_open(calendar, berlin(2026, 10, 25))

    assert (found, between(calendar, found, berlin(2026, 10, 26))) == (
        utc(2026, 10, 25, 0, 30),
        timedelta(hours=2, minutes=30),
    )


def test_a_repeated_wall_time_means_its_first_occurrence_even_when_given_as_the_second() -> None:
    calendar = Calendar("Europe/Berlin", {6: (Interval(time(2, 30, fold=1), time(4)),)})

    found = next_open(calendar, berlin(2026, 10, 25))

    assert found == utc(2026, 10, 25, 0, 30)


def test_an_office_week_with_the_clock_change_still_counts_eight_hours_a_day() -> None:
    calendar = office("America/New_York")

    elapsed = between(calendar, new_york(2026, 3, 6, 12), new_york(2026, 3, 9, 12))

    assert elapsed == 8 * HOUR


# Leap days


def test_a_leap_day_is_a_business_day() -> None:
    calendar = office()

    elapsed = between(calendar, berlin(2028, 2, 28, 9), berlin(2028, 3, 1, 17))

    assert elapsed == 24 * HOUR


def test_a_leap_day_can_be_closed() -> None:
    calendar = office(closed_dates=frozenset({date(2028, 2, 29)}))

    due = add(calendar, berlin(2028, 2, 28, 16), 2 * HOUR)

    assert due == berlin(2028, 3, 1, 10)


def test_always_open_across_a_leap_day_counts_two_days_from_the_28th_to_the_1st() -> None:
    calendar = Calendar.always()

    elapsed = between(calendar, utc(2028, 2, 28), utc(2028, 3, 1))

    assert elapsed == 48 * HOUR


# The calendar value


def test_equal_hours_make_equal_calendars() -> None:
    given = Calendar("UTC", {0: OFFICE_DAY, 1: [*OFFICE_DAY], 2: ()})

    same = Calendar("UTC", WeeklyHours({1: OFFICE_DAY, 0: OFFICE_DAY}))

    assert (given == same, hash(given) == hash(same)) == (True, True)


def test_a_calendar_lists_its_weekly_hours() -> None:
    calendar = Calendar("UTC", {3: OFFICE_DAY, 1: WITH_LUNCH})

    hours = dict(calendar.weekly)

    assert (hours, len(calendar.weekly)) == ({1: WITH_LUNCH, 3: OFFICE_DAY}, 2)


def test_a_calendar_shows_its_hours() -> None:
    calendar = Calendar("UTC", {3: OFFICE_DAY})

    shown = repr(calendar)

    assert shown == (
        "Calendar(timezone='UTC', weekly=WeeklyHours({3: (Interval(start=datetime.time(9, 0), "
        "end=datetime.time(17, 0)),)}), closed_dates=frozenset())"
    )


def test_a_calendar_survives_pickling_and_copying() -> None:
    calendar = office(closed_dates=frozenset({date(2026, 12, 24)}))
    week = (berlin(2026, 12, 21), berlin(2026, 12, 28))

    copies = (pickle.loads(pickle.dumps(calendar)), copy.deepcopy(calendar))  # noqa: S301

    assert [(each, between(each, *week)) for each in copies] == [
        (calendar, between(calendar, *week)),
        (calendar, between(calendar, *week)),
    ]


def test_business_time_loads_without_django_or_the_rest_of_kiwidesk() -> None:
    program = (
        "import sys, kiwidesk.sla.calendar\n"
        "print(sorted(name for name in sys.modules if name.startswith(('django', 'kiwidesk'))))"
    )

    loaded = subprocess.run(  # noqa: S603
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout

    assert loaded == "['kiwidesk', 'kiwidesk.sla', 'kiwidesk.sla.calendar']\n"


def test_many_calendars_in_one_process_each_still_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_module, "_SHARED_LIMIT", 1)
    morning = Calendar("UTC", {0: (Interval(time(8), time(9)),)})
    evening = Calendar("UTC", {0: (Interval(time(20), time(21)),)})

    opened = (next_open(morning, utc(2026, 11, 23)), next_open(evening, utc(2026, 11, 23)))

    assert opened == (utc(2026, 11, 23, 8), utc(2026, 11, 23, 20))


# Refused input


@pytest.mark.parametrize(
    "operation",
    [
        lambda calendar, naive: between(calendar, naive, naive),
        lambda calendar, naive: add(calendar, naive, HOUR),
        lambda calendar, naive: next_open(calendar, naive),
        lambda calendar, naive: is_open(calendar, naive),
    ],
    ids=["between", "add", "next_open", "is_open"],
)
def test_a_naive_datetime_is_refused(operation: Callable[[Calendar, datetime], object]) -> None:
    calendar = office()

    with pytest.raises(ValueError, match="an aware datetime is needed"):
        operation(calendar, datetime(2026, 11, 23, 9))  # noqa: DTZ001


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Kiwi'"):
        Calendar("Europe/Kiwi", {0: OFFICE_DAY})


@pytest.mark.parametrize("weekday", [-1, 7])
def test_a_weekday_outside_monday_to_sunday_is_refused(weekday: int) -> None:
    with pytest.raises(ValueError, match=f"weekday {weekday} is not 0"):
        Calendar("UTC", {weekday: OFFICE_DAY})


def test_openings_that_are_not_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="must be Interval values"):
        Calendar("UTC", {0: ((time(9), time(17)),)})


def test_a_week_without_openings_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one opening"):
        Calendar("UTC", {0: (), 6: ()})


def test_a_closed_date_with_a_time_is_refused() -> None:
    with pytest.raises(ValueError, match="closed dates are dates"):
        office(closed_dates=frozenset({datetime(2026, 12, 25, tzinfo=UTC)}))


@pytest.mark.parametrize(
    ("start", "end"),
    [(time(9, tzinfo=UTC), time(17)), (time(9), "17:00")],
    ids=["aware", "text"],
)
def test_an_opening_needs_local_times_of_day(start: time, end: time) -> None:
    with pytest.raises(ValueError, match="an opening"):
        Interval(start, end)


@pytest.mark.parametrize(
    "instant", [utc(1, 6, 1), utc(9998, 12, 1), utc(9999, 6, 1)], ids=["1", "9998", "9999"]
)
def test_instants_outside_the_supported_years_are_refused(instant: datetime) -> None:
    calendar = office()

    with pytest.raises(ValueError, match="from the year 3 to 9997 only"):
        next_open(calendar, instant)
