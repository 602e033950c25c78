"""Time the rebuild of every case's SLA clocks from its events (`kiwidesk sla recompute`).

    python bench/bench_sla_rebuild.py                    # 50,000 cases, about 10 events each
    python bench/bench_sla_rebuild.py --cases 5000       # a quick run
    python bench/bench_sla_rebuild.py --reuse            # time again on the seeded folder

Seeds a fresh SQLite folder under bench/out/ with `kiwidesk seed` (in-process), adds
one policy with a target for every metric at every priority (calendar hours, and a
second run in business hours on a Berlin office calendar with public holidays), then
times `rebuild_clocks` with one and with two processes. Prints a table with cases
and events per second and the time 1,000,000 cases would take at that rate.

Target (issue 4): 1,000,000 cases (about 10 events each) in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
TARGET_SECONDS = 60.0
TARGET_CASES = 1_000_000
MESSAGES_PER_CASE = 7


@dataclass(frozen=True)
class Row:
    label: str
    workers: int
    cases: int
    events: int
    clocks: int
    seconds: float
    cpu_seconds: float

    @property
    def projected_seconds(self) -> float:
        return self.seconds * TARGET_CASES / self.cases


def main() -> int:
    args = _arguments()
    data_dir = OUT_DIR / f"sla-{args.cases}"
    if not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    os.environ["KIWIDESK_DATA_DIR"] = str(data_dir)
    if args.sqlite_only:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiwidesk.settings")
    import django

    django.setup()
    _seed_once(args.cases)
    rows = []
    for label, business in (("calendar hours", False), ("business hours", True)):
        _one_policy(business=business)
        for workers in args.workers:
            rows.append(_time_rebuild(label, workers, args.batch))
    _report(rows)
    best = min(row.projected_seconds for row in rows)
    return 0 if best < TARGET_SECONDS else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reuse", action="store_true", help="keep the seeded folder")
    parser.add_argument(
        "--sqlite-only", action="store_true", help="ignore DATABASE_URL (default: honour it)"
    )
    return parser.parse_args()


def _seed_once(cases: int) -> None:
    from django.core.management import call_command
    from django.db import connections

    from kiwidesk.cases.models import Case
    from kiwidesk.seed.load import seed_database

    for alias in connections:
        call_command("migrate", database=alias, verbosity=0, interactive=False)
    if Case.objects.exists():
        return
    started = time.monotonic()
    result = seed_database(cases=cases, messages=cases * MESSAGES_PER_CASE, seed=1)
    print(
        f"seeded {result.cases:,} cases, {result.messages:,} messages, "
        f"{result.events:,} events in {time.monotonic() - started:.1f} s"
    )


def _one_policy(*, business: bool) -> None:
    from kiwidesk.cases.models import Priority
    from kiwidesk.sla.metrics import Metric
    from kiwidesk.sla.models import BusinessCalendar, Policy, Target

    Policy.objects.all().delete()
    office, _ = BusinessCalendar.objects.get_or_create(
        name="Berlin office",
        defaults={
            "time_zone": "Europe/Berlin",
            "weekly_hours": {str(day): [["08:00", "18:00"]] for day in range(5)},
            "country": "DE",
            "subdivision": "BE",
        },
    )
    policy = Policy.objects.create(name="Everything", calendar=office if business else None)
    Target.objects.bulk_create(
        Target(
            policy=policy,
            metric=metric,
            priority=priority,
            minutes=240,
            is_business_time=business,
        )
        for metric in Metric
        for priority in Priority.values
    )


def _time_rebuild(label: str, workers: int, batch: int) -> Row:
    from kiwidesk.sla.rebuild import rebuild_clocks

    as_of = datetime.now(UTC)
    cpu_before = _cpu_seconds()
    summary = rebuild_clocks(workers=workers, batch=batch, as_of=as_of)
    cpu = _cpu_seconds() - cpu_before
    row = Row(label, workers, summary.cases, summary.events, summary.clocks, summary.seconds, cpu)
    print(f"  {label}, {workers} process(es): {row.seconds:.1f} s", file=sys.stderr)
    return row


def _cpu_seconds() -> float:
    """CPU time of this process and of the rebuild processes it forked and waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _report(rows: list[Row]) -> None:
    load = os.getloadavg()[0]
    print(f"\nSLA rebuild (load average {load:.1f} at the end)\n")
    print("| targets | processes | cases | events | clocks | seconds | CPU s | cases/s "
          "| CPU µs/case | 1,000,000 cases (wall) | 1,000,000 cases (CPU / 2 cores) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.label} | {row.workers} | {row.cases:,} | {row.events:,} | {row.clocks:,} "
            f"| {row.seconds:.1f} | {row.cpu_seconds:.1f} | {row.cases / row.seconds:,.0f} "
            f"| {row.cpu_seconds / row.cases * 1e6:.0f} | {row.projected_seconds:.0f} s "
            f"| {row.cpu_seconds * TARGET_CASES / row.cases / 2:.0f} s |"
        )


if __name__ == "__main__":
    sys.exit(main())
