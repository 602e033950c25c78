"""Business time: weekly opening hours in a time zone, closed dates, and arithmetic over them.

A pure module: it imports nothing from Django or from the rest of Kiwidesk, so SLA clocks,
reports and benchmarks can all lean on the same maths.

How a calendar reads:

- ``weekly`` maps a weekday (0 = Monday … 6 = Sunday) to its openings, in local wall time.
  An opening whose end is not after its start runs overnight into the next day, and belongs
  to the day it starts: Friday 22:00 to 06:00 is open from Friday 22:00 to Saturday 06:00.
  An opening from 00:00 to 00:00 is a whole day. Openings that overlap or touch are one
  stretch of open time.
- ``closed_dates`` are local dates (public holidays, custom dates) on which no opening
  *starts*. ``Calendar.with_holidays`` fills them from the `holidays` library for a country
  and subdivision (by default for 2020 to 2060), plus extra dates. An overnight opening that
  starts the evening before a closed date still runs to its end on the closed date (the night
  shift already at work finishes its shift); one that starts on the closed date does not run
  at all, not even its hours after midnight.
- Wall times map to instants as the local clock shows them. On the day clocks spring forward, a
  wall time inside the skipped hour means the instant the clocks jump, so an opening across the
  gap is an hour shorter (and one inside it is empty); on the day they fall back, a repeated
  wall time means its first occurrence, so an opening across the repeated hour is an hour longer.
- Open time is half-open: an opening from 09:00 to 17:00 is open at 09:00 and closed at 17:00.

The four operations take aware datetimes (a naive one raises ``ValueError``) and return UTC:

- ``between(c, a, b)``: business time from ``a`` to ``b``; zero when ``b`` is not after ``a``.
  It is additive: ``between(a, b) + between(b, c) == between(a, c)`` for ``a <= b <= c``.
- ``add(c, a, d)``: the latest instant by which exactly ``d`` of business time has passed since
  ``a`` (``d`` must not be negative). It is always an open instant: a duration used up at closing
  time lands on the next opening, when business time would start to run past it. So
  ``between(a, add(a, d)) == d``, ``add(a, 0) == next_open(a)``, and for every ``b >= a``
  (open or closed) ``add(a, between(a, b)) == next_open(b)``.
- ``next_open(c, t)``: ``t`` itself when open, else the start of the next opening.
- ``is_open(c, t)``.

``between_micros`` and ``add_micros`` are the same on microseconds since 1970 (UTC), for
callers that already count in them (the SLA derivation: no datetime made per question).

Speed: a calendar is compiled lazily, one span of about a year at a time, into sorted UTC open
intervals with cumulative open time, cached per calendar (equal calendars share it). ``between``
is then two bisections and a subtraction, ``add`` one bisection on the cumulative open time.
Instants from the year 3 to 9997 are supported; others raise ``ValueError``.
"""

from __future__ import annotations

import functools
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "Interval",
    "WeeklyHours",
    "add",
    "add_micros",
    "between",
    "between_micros",
    "from_micros",
    "is_open",
    "next_open",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)
_DAY = timedelta(days=1)
# A span is 2**45 µs (about 407 days): a power of two, so finding an instant's span is a shift.
_SPAN_BITS = 45
_SPAN = 1 << _SPAN_BITS
_FIRST_DAY = date(2, 1, 1)
_LAST_DAY = date(9998, 12, 31)
_OUT_OF_RANGE = "business time is computed from the year 3 to 9997 only"
# Compiled calendars kept for sharing: a year of hours takes 100 to 300 KB.
_SHARED_LIMIT = 64
_DEFAULT_HOLIDAY_YEARS = range(2020, 2061)


@dataclass(frozen=True)
class Interval:
    """One opening on a weekday, in local wall time; ``end <= start`` runs overnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if not isinstance(self.start, time) or not isinstance(self.end, time):
            raise ValueError("an opening's start and end are times of day")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("an opening is local wall time: give times without a time zone")
        # A wall time names its first occurrence when clocks fall back, whatever fold it carries.
        object.__setattr__(self, "start", self.start.replace(fold=0))
        object.__setattr__(self, "end", self.end.replace(fold=0))

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


class WeeklyHours(Mapping[int, tuple[Interval, ...]]):
    """Openings per weekday, frozen and hashable; weekdays without openings are left out."""

    __slots__ = ("_days", "_hash")

    def __init__(self, days: Mapping[int, Iterable[Interval]]) -> None:
        normalised: dict[int, tuple[Interval, ...]] = {}
        for weekday in sorted(days):
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)")
            openings = tuple(days[weekday])
            if not all(isinstance(opening, Interval) for opening in openings):
                raise ValueError(f"the openings of weekday {weekday} must be Interval values")
            if openings:
                normalised[weekday] = openings
        self._days = normalised
        self._hash = hash(tuple(normalised.items()))

    def __getitem__(self, weekday: int) -> tuple[Interval, ...]:
        return self._days[weekday]

    def __iter__(self) -> Iterator[int]:
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"WeeklyHours({self._days!r})"

    def __reduce__(self) -> tuple[type[WeeklyHours], tuple[dict[int, tuple[Interval, ...]]]]:
        return (WeeklyHours, (self._days,))


@dataclass(frozen=True)
class Calendar:
    """Weekly opening hours in one IANA time zone, minus closed local dates."""

    timezone: str
    weekly: Mapping[int, tuple[Interval, ...]]
    closed_dates: frozenset[date] = frozenset()
    _timeline: _Timeline = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise ValueError(f"unknown time zone {self.timezone!r}") from error
        weekly = WeeklyHours(self.weekly)
        if not weekly:
            raise ValueError("a calendar needs at least one opening in its week")
        closed = frozenset(self.closed_dates)
        if not all(type(day) is date for day in closed):
            raise ValueError("closed dates are dates (without a time)")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "closed_dates", closed)
        object.__setattr__(self, "_timeline", _shared_timeline(self, zone))

    def __reduce__(
        self,
    ) -> tuple[type[Calendar], tuple[str, Mapping[int, tuple[Interval, ...]], frozenset[date]]]:
        # Pickled and copied as its settings: the compiled hours are rebuilt, or shared, on use.
        return (Calendar, (self.timezone, self.weekly, self.closed_dates))

    @classmethod
    def always(cls) -> Calendar:
        """Open all day, every day (24/7), with no closed dates."""
        whole_day = (Interval(time(0), time(0)),)
        return cls(timezone="UTC", weekly=dict.fromkeys(range(7), whole_day))

    @classmethod
    def with_holidays(
        cls,
        *,
        timezone: str,
        weekly: Mapping[int, Iterable[Interval]],
        country: str,
        subdivision: str | None = None,
        extra: Iterable[date] = (),
        years: Iterable[int] = _DEFAULT_HOLIDAY_YEARS,
    ) -> Calendar:
        """A calendar closed on the public holidays of a country (and subdivision) and on extra
        dates. Holidays are computed for ``years`` (by default 2020 to 2060), by the `holidays`
        library; an unknown country or subdivision raises ``ValueError``."""
        return cls(
            timezone=timezone,
            weekly=WeeklyHours(weekly),
            closed_dates=_public_holidays(country, subdivision, tuple(years)) | frozenset(extra),
        )


@functools.lru_cache(maxsize=64)
def _public_holidays(
    country: str, subdivision: str | None, years: tuple[int, ...]
) -> frozenset[date]:
    """Remembered: computing forty years of a country's holidays takes tens of milliseconds."""
    import holidays  # imported here: only calendars with holidays need it, and it is slow

    try:
        public = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as error:
        raise ValueError(str(error)) from error
    return frozenset(public)


def is_open(calendar: Calendar, instant: datetime) -> bool:
    """Whether the calendar is open at ``instant``."""
    moment = _micros(instant)
    span = calendar._timeline.span(moment >> _SPAN_BITS)
    index = bisect_right(span.starts, moment) - 1
    return index >= 0 and moment < span.ends[index]


def next_open(calendar: Calendar, instant: datetime) -> datetime:
    """``instant`` itself when the calendar is open then, else the start of its next opening."""
    moment = _micros(instant)
    timeline = calendar._timeline
    number = moment >> _SPAN_BITS
    span = timeline.span(number)
    index = bisect_right(span.starts, moment) - 1
    if index >= 0 and moment < span.ends[index]:
        return _instant(moment)
    index += 1
    while index == len(span.starts):
        number += 1
        span = timeline.span(number)
        index = 0
    return _instant(span.starts[index])


def between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Business time from ``start`` to ``end``; zero when ``end`` is not after ``start``."""
    return _MICROSECOND * between_micros(calendar, _micros(start), _micros(end))


def add(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The latest instant by which exactly ``duration`` of business time has passed since
    ``start``: always an open instant, so time used up at closing lands on the next opening."""
    if duration < _ZERO:
        raise ValueError("business time to add must not be negative")
    return _instant(add_micros(calendar, _micros(start), duration // _MICROSECOND))


def between_micros(calendar: Calendar, first: int, last: int) -> int:
    """``between`` on microseconds since 1970 (UTC), for callers that count in them."""
    if last <= first:
        return 0
    timeline = calendar._timeline
    first_number = first >> _SPAN_BITS
    last_number = last >> _SPAN_BITS
    if first_number == last_number:
        span = timeline.span(first_number)
        return span.open_before(last) - span.open_before(first)
    span = timeline.span(first_number)
    total = span.total - span.open_before(first)
    for number in range(first_number + 1, last_number):
        total += timeline.span(number).total
    return total + timeline.span(last_number).open_before(last)


def add_micros(calendar: Calendar, moment: int, duration: int) -> int:
    """``add`` on microseconds since 1970 (UTC); ``duration`` must not be negative."""
    timeline = calendar._timeline
    number = moment >> _SPAN_BITS
    span = timeline.span(number)
    # The target is an amount of open time counted from the start of ``span``.
    target = span.open_before(moment) + duration
    while target >= span.total:
        target -= span.total
        number += 1
        span = timeline.span(number)
    index = bisect_right(span.open_after, target)
    return span.starts[index] + target - span.open_until[index]


def to_micros(instant: datetime) -> int:
    """An aware datetime as microseconds since 1970 (UTC)."""
    return _micros(instant)


def from_micros(moment: int) -> datetime:
    """Microseconds since 1970 as an aware UTC datetime."""
    return _instant(moment)


def _micros(instant: datetime) -> int:
    try:
        return (instant - _EPOCH) // _MICROSECOND
    except TypeError as error:
        raise ValueError(f"an aware datetime is needed, not {instant!r}") from error


def _instant(moment: int) -> datetime:
    return _EPOCH + _MICROSECOND * moment


class _Span:
    """The open intervals of one span of UTC time, clipped to it, as microseconds since 1970.

    ``open_until[i]`` is the open time in the span before ``starts[i]``, ``open_after[i]`` the
    open time up to ``ends[i]``; ``total`` is all the span's open time."""

    __slots__ = ("ends", "open_after", "open_until", "starts", "total")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.starts = [start for start, _ in intervals]
        self.ends = [end for _, end in intervals]
        self.open_until: list[int] = []
        self.open_after: list[int] = []
        total = 0
        for start, end in intervals:
            self.open_until.append(total)
            total += end - start
            self.open_after.append(total)
        self.total = total

    def open_before(self, moment: int) -> int:
        """Open time from the start of the span to ``moment`` (which lies in the span)."""
        index = bisect_right(self.starts, moment) - 1
        if index < 0:
            return 0
        return self.open_until[index] + min(moment, self.ends[index]) - self.starts[index]


class _Timeline:
    """A calendar compiled span by span, on first use."""

    __slots__ = ("_calendar", "_spans", "_zone")

    def __init__(self, calendar: Calendar, zone: ZoneInfo) -> None:
        self._calendar = calendar
        self._zone = zone
        self._spans: dict[int, _Span] = {}

    def span(self, number: int) -> _Span:
        found = self._spans.get(number)
        if found is None:
            # Two threads may compile the same span at once; both get the same result, and
            # storing it in a dict is atomic, so no lock is needed.
            found = self._spans[number] = self._compile(number)
        return found

    def _compile(self, number: int) -> _Span:
        begin = number << _SPAN_BITS
        finish = begin + _SPAN
        first_day, last_day = self._local_days(begin, finish)
        intervals = [
            (max(start, begin), min(end, finish))
            for start, end in _merged(self._openings(first_day, last_day))
            if end > begin and start < finish
        ]
        return _Span(intervals)

    def _local_days(self, begin: int, finish: int) -> tuple[date, date]:
        """The local dates whose openings may reach into ``[begin, finish)``."""
        try:
            first_day = _instant(begin).astimezone(self._zone).date() - 2 * _DAY
            last_day = _instant(finish).astimezone(self._zone).date() + _DAY
        except OverflowError as error:
            raise ValueError(_OUT_OF_RANGE) from error
        if first_day < _FIRST_DAY or last_day > _LAST_DAY:
            raise ValueError(_OUT_OF_RANGE)
        return first_day, last_day

    def _openings(self, first_day: date, last_day: date) -> Iterator[tuple[int, int]]:
        calendar = self._calendar
        day = first_day
        while day <= last_day:
            if day not in calendar.closed_dates:
                for opening in calendar.weekly.get(day.weekday(), ()):
                    end_day = day + _DAY if opening.overnight else day
                    start = _wall_to_micros(datetime.combine(day, opening.start), self._zone)
                    end = _wall_to_micros(datetime.combine(end_day, opening.end), self._zone)
                    if end > start:
                        yield start, end
            day += _DAY


def _merged(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted intervals with overlapping and touching ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _wall_to_micros(wall: datetime, zone: ZoneInfo) -> int:
    """The first instant at which the local clock reads ``wall`` or later."""
    earliest = wall.replace(tzinfo=zone)  # fold=0: a repeated wall time's first occurrence
    moment = _micros(earliest)
    if _instant(moment).astimezone(zone).replace(tzinfo=None) == wall:
        return moment
    # ``wall`` was skipped when the clocks sprang forward: find the instant of the jump, between
    # ``wall`` read with the offset after the jump and ``wall`` read with the offset before it.
    low = _micros(wall.replace(tzinfo=zone, fold=1))
    high = moment
    while high - low > 1:
        middle = (low + high) // 2
        if _instant(middle).astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


_shared: dict[Calendar, _Timeline] = {}
_shared_lock = threading.Lock()


def _shared_timeline(calendar: Calendar, zone: ZoneInfo) -> _Timeline:
    """The compiled timeline of an equal calendar made earlier, or a new one."""
    with _shared_lock:
        timeline = _shared.get(calendar)
        if timeline is None:
            if len(_shared) >= _SHARED_LIMIT:
                del _shared[next(iter(_shared))]
            timeline = _shared[calendar] = _Timeline(calendar, zone)
        return timeline
