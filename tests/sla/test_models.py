"""A business calendar as configured in the admin becomes the pure calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from kiwidesk.sla import calendar
from kiwidesk.sla.models import BusinessCalendar


def test_weekly_hours_and_extra_dates_make_the_calendar() -> None:
    hours = BusinessCalendar(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={"0": [["09:00", "17:00"]], "1": [["09:00", "17:00"]]},
        extra_closed_dates=["2026-03-03"],
    )

    result = hours.to_calendar()

    # Monday 2 March 2026 is open 08:00-16:00 UTC; Tuesday is closed by the extra date.
    monday_morning = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert calendar.between(result, monday_morning, monday_morning + timedelta(days=2)) == (
        timedelta(hours=8)
    )


def test_a_country_and_subdivision_close_their_public_holidays() -> None:
    hours = BusinessCalendar(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={str(day): [["09:00", "17:00"]] for day in range(5)},
        country="DE",
        subdivision="BE",
    )

    result = hours.to_calendar()

    # International Women's Day is a public holiday in Berlin only.
    assert (date(2026, 3, 8) in result.closed_dates, date(2026, 3, 9) in result.closed_dates) == (
        True,
        False,
    )


def test_an_always_open_calendar_is_24_7() -> None:
    hours = BusinessCalendar(name="Round the clock", is_always_open=True)

    assert hours.to_calendar() == calendar.Calendar.always()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus"),
        ("weekly_hours", {"0": [["9 o'clock", "17:00"]]}),
        ("extra_closed_dates", ["tomorrow"]),
        ("country", "ZZ"),
    ],
)
def test_a_wrong_setting_is_a_validation_error(field: str, value: object) -> None:
    hours = BusinessCalendar(
        name="Office", time_zone="Europe/Berlin", weekly_hours={"0": [["09:00", "17:00"]]}
    )
    setattr(hours, field, value)

    with pytest.raises(ValidationError):
        hours.clean()
