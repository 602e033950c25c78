"""Time business-time arithmetic (`kiwidesk.sla.calendar`) on random calendars and instants.

    python bench/bench_calendar.py                     # 60 calendars, 300,000 operations each
    python bench/bench_calendar.py --operations 50000 --runs 3   # a quick run

Calendars are drawn at random: zones with and without daylight saving, one to three openings
on five to seven weekdays (overnight shifts included), public holidays of a country for some,
and 24/7. Instant pairs start anywhere in 2026 and 2027 and end minutes to months later, as
clocks do. Every operation picks one of the calendars at random, as a clock recompute over many
cases with different policies would. Each operation is timed over all its calls, ``--runs``
times in one process on one core; the best run is the figure (the least disturbed by other work
on the machine), with the median and the rate per second of CPU time (what the process itself
used, so waiting for a shared core does not count) next to it. Compiling a calendar (once per
calendar and about a year of hours, then cached) is timed apart.

Target (issue 4): ``between`` and ``add`` at 200,000 operations/s or more on one core; the
script exits 1 when either misses it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiwidesk.sla.calendar import Calendar, Interval, add, between, is_open, next_open

TARGET_PER_SECOND = 200_000
HELD_TO_TARGET = ("between", "add")
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
)
HOLIDAYS = (("DE", "BY"), ("US", "NY"), ("GB", None), ("AU", "NSW"))
START = datetime(2026, 1, 1, tzinfo=UTC)
TWO_YEARS = 2 * 365 * 86_400


@dataclass(frozen=True)
class Timing:
    operation: str
    calls: int
    best_seconds: float
    median_seconds: float
    best_cpu_seconds: float

    @property
    def best_rate(self) -> float:
        return self.calls / self.best_seconds

    @property
    def median_rate(self) -> float:
        return self.calls / self.median_seconds

    @property
    def cpu_rate(self) -> float:
        return self.calls / self.best_cpu_seconds

    @property
    def held(self) -> bool:
        return self.operation in HELD_TO_TARGET

    @property
    def met(self) -> bool:
        return self.best_rate >= TARGET_PER_SECOND


def random_opening(rng: random.Random) -> Interval:
    start = rng.randrange(0, 24 * 4) * 15
    length = rng.choice((4, 6, 8, 10, 12)) * 60
    end = (start + length) % (24 * 60)
    return Interval(time(start // 60, start % 60), time(end // 60, end % 60))


def random_calendar(rng: random.Random) -> Calendar:
    if rng.random() < 0.1:
        return Calendar.always()
    days = rng.sample(range(7), rng.randint(5, 7))
    weekly = {day: tuple(random_opening(rng) for _ in range(rng.randint(1, 3))) for day in days}
    zone = rng.choice(ZONES)
    if rng.random() < 0.5:
        country, subdivision = rng.choice(HOLIDAYS)
        return Calendar.with_holidays(
            timezone=zone, weekly=weekly, country=country, subdivision=subdivision
        )
    return Calendar(zone, weekly)


def random_instant_pair(rng: random.Random, zone: ZoneInfo | None) -> tuple[datetime, datetime]:
    start = START + timedelta(seconds=rng.randrange(TWO_YEARS), microseconds=rng.randrange(10**6))
    gap = rng.choice((3_600, 86_400, 7 * 86_400, 60 * 86_400))
    end = start + timedelta(seconds=rng.randrange(gap))
    if zone is None:
        return start, end
    return start.astimezone(zone), end.astimezone(zone)


def compile_seconds(calendars: Sequence[Calendar]) -> float:
    """Time to compile a year of hours: the first use of each calendar in a new year."""
    began = clock.perf_counter()
    for number, calendar in enumerate(calendars):
        next_open(calendar, datetime(2040 + number % 50, 6, 1, tzinfo=UTC))
    return (clock.perf_counter() - began) / len(calendars)


def timed(name: str, call: Callable[[], object], calls: int, runs: int) -> Timing:
    seconds, cpu_seconds = [], []
    for _ in range(runs):
        began, began_cpu = clock.perf_counter(), clock.process_time()
        call()
        seconds.append(clock.perf_counter() - began)
        cpu_seconds.append(clock.process_time() - began_cpu)
    return Timing(name, calls, min(seconds), statistics.median(seconds), min(cpu_seconds))


def run(calendar_count: int, operations: int, runs: int, seed: int) -> list[Timing]:
    rng = random.Random(seed)
    calendars = [random_calendar(rng) for _ in range(calendar_count)]
    print(f"compile: {compile_seconds(calendars) * 1000:.1f} ms per calendar and year of hours")
    local = [ZoneInfo(zone) for zone in ZONES]
    cases = []
    for _ in range(operations):
        calendar = rng.choice(calendars)
        start, end = random_instant_pair(rng, None)
        local_start, local_end = random_instant_pair(rng, rng.choice(local))
        duration = timedelta(seconds=rng.randrange(40 * 3600))
        cases.append((calendar, start, end, local_start, local_end, duration))
    for calendar, start, end, local_start, _, duration in cases:  # compile every year used
        between(calendar, start, end)
        add(calendar, local_start, duration)

    def between_utc() -> None:
        for calendar, start, end, _, _, _ in cases:
            between(calendar, start, end)

    def between_local() -> None:
        for calendar, _, _, start, end, _ in cases:
            between(calendar, start, end)

    def add_utc() -> None:
        for calendar, start, _, _, _, duration in cases:
            add(calendar, start, duration)

    def add_local() -> None:
        for calendar, _, _, start, _, duration in cases:
            add(calendar, start, duration)

    def next_open_utc() -> None:
        for calendar, start, _, _, _, _ in cases:
            next_open(calendar, start)

    def is_open_utc() -> None:
        for calendar, start, _, _, _, _ in cases:
            is_open(calendar, start)

    def loop_only() -> None:
        for _calendar, _start, _end, _, _, _duration in cases:
            pass

    return [
        timed("between", between_utc, operations, runs),
        timed("between (inputs in local zones)", between_local, operations, runs),
        timed("add", add_utc, operations, runs),
        timed("add (inputs in local zones)", add_local, operations, runs),
        timed("next_open", next_open_utc, operations, runs),
        timed("is_open", is_open_utc, operations, runs),
        timed("the loop alone (included above)", loop_only, operations, runs),
    ]


def print_table(timings: Sequence[Timing]) -> None:
    print(
        "| operation | calls | best ops/s | median ops/s | ops per CPU second (best) "
        f"| target {TARGET_PER_SECOND:,}/s |"
    )
    print("|---|---|---|---|---|---|")
    for timing in timings:
        verdict = ("ok" if timing.met else "MISSED") if timing.held else "-"
        print(
            f"| {timing.operation} | {timing.calls:,} | {timing.best_rate:,.0f} "
            f"| {timing.median_rate:,.0f} | {timing.cpu_rate:,.0f} | {verdict} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calendars", type=int, default=60)
    parser.add_argument("--operations", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4)
    arguments = parser.parse_args(argv)
    timings = run(arguments.calendars, arguments.operations, arguments.runs, arguments.seed)
    print_table(timings)
    return 0 if all(timing.met for timing in timings if timing.held) else 1


if __name__ == "__main__":
    sys.exit(main())
