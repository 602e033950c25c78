"""Time the inbox sorted by next breach with 100,000 open cases and their running clocks.

    python bench/bench_inbox_breach.py            # copies bench_web.py's folder, then times
    python bench/bench_inbox_breach.py --reuse    # time the prepared copy again

Prepares a copy of the folder `bench_web.py` seeded (100,000 cases): every case reopened
(new, open, pending or on hold), and SLA clocks written straight into the table as a
rebuild would leave them: resolution running on 90% of the cases, customer wait time on
70%, first reply on 40% (those already past their due instant breached and still
running, as a rebuild leaves them: they lead the sort), agent work time paused on half, and
about 3% of the cases with no running clock. Then runs the inbox pages in-process
through Django's test client, logged in as the demo lead, one request at a time.

Target (issue 4): p95 under 60 ms. Exits 1 when a page misses it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SOURCE = BENCH_DIR / "out" / "web-100000-1000000"
TARGET_DIR = BENCH_DIR / "out" / "breach-100000"
P95_TARGET_MS = 60.0
PAGES = (
    ("all open, next breach", "/?sort=breach"),
    ("mine, next breach", "/?view=mine&sort=breach"),
    ("my teams, next breach", "/?view=teams&sort=breach"),
    ("unassigned, next breach", "/?view=unassigned&sort=breach"),
    ("pending, next breach", "/?view=pending&sort=breach"),
    ("status=open, next breach", "/?status=open&sort=breach"),
    ("page 20, next breach", "/?sort=breach&page=20"),
    ("mine, status=open, next breach (few cases)", "/?view=mine&status=open&sort=breach"),
    ("mine, urgent, next breach (fewer)", "/?view=mine&priority=urgent&sort=breach"),
    ("all open, recently updated (for comparison)", "/"),
)
# (metric, state, share of cases in %, due from now: low and high minutes)
CLOCKS = (
    ("resolution", "active", 90, -1440, 7200),
    ("customer_wait", "active", 70, -600, 10000),
    ("first_reply", "active", 40, -120, 480),
    ("agent_work", "paused", 50, 0, 1),
)
REOPENED = """
UPDATE cases_case SET merged_into_id = NULL, status = CASE abs(random()) % 5
    WHEN 0 THEN 'new' WHEN 1 THEN 'open' WHEN 2 THEN 'pending_customer'
    WHEN 3 THEN 'pending_third_party' ELSE 'on_hold' END
WHERE status IN ('solved', 'closed')
"""
CLOCK_ROWS = """
INSERT INTO sla_clock (case_id, metric, thread_id, policy_id, state, started_at, due_at,
    stopped_at, breached_at, elapsed_seconds, cycles, breaches, computed_at)
SELECT id, :metric, NULL, :policy, :state, created_at,
    CASE WHEN :state = 'active' THEN strftime('%Y-%m-%d %H:%M:%f', 'now',
        (:low + abs(random()) % (:high - :low)) || ' minutes') END,
    NULL, NULL, 0, 1, 0, strftime('%Y-%m-%d %H:%M:%f', 'now')
FROM cases_case WHERE abs(random()) % 100 < :share
"""

# A running clock past its due instant is breached, as a rebuild leaves it.
OVERDUE = """
UPDATE sla_clock SET state = 'breached', breached_at = due_at, breaches = 1
WHERE state = 'active' AND due_at < strftime('%Y-%m-%d %H:%M:%f', 'now')
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--data", type=Path, default=TARGET_DIR)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="time the prepared copy again")
    args = parser.parse_args()
    if not args.reuse:
        _prepare(args.source, args.data)
    return _time_pages(args.data, args.requests)


def _prepare(source: Path, data: Path) -> None:
    if not (source / "kiwidesk.sqlite3").exists():
        sys.exit(f"{source} has no database: run bench/bench_web.py first.")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(source, data)
    environment = {**os.environ, "KIWIDESK_DATA_DIR": str(data)}
    subprocess.run(  # our own interpreter and module
        [sys.executable, "-m", "kiwidesk.cli", "manage", "migrate", "--verbosity", "0"],
        env=environment,
        check=True,
    )
    database = sqlite3.connect(data / "kiwidesk.sqlite3")
    with database:
        database.execute(REOPENED)
        database.execute("DELETE FROM sla_clock")
        policy = database.execute(
            "INSERT INTO sla_policy (name, position, is_active, calendar_id, tiers, priorities,"
            " channels, categories, tags, sensitivities, follow_up_limit, solves_after_follow_ups,"
            " follow_up_message, solve_notice, warning_notifies, warning_raises_priority,"
            " warning_tag, breach_notifies, breach_raises_priority, breach_tag)"
            " VALUES ('Bench', 1, 1, NULL, '[]', '[]', '[]', '[]', '[]', '[]', 3, 0, '', '',"
            " 0, 0, '', 0, 0, '')"
        ).lastrowid
        for metric, state, share, low, high in CLOCKS:
            database.execute(
                CLOCK_ROWS,
                {"metric": metric, "state": state, "share": share, "low": low, "high": high,
                 "policy": policy},
            )  # fmt: skip
        database.execute(OVERDUE)
    database.execute("ANALYZE")
    counts = database.execute("SELECT state, count(*) FROM sla_clock GROUP BY state").fetchall()
    open_cases = database.execute(
        "SELECT count(*) FROM cases_case WHERE status NOT IN ('solved', 'closed')"
    ).fetchone()[0]
    database.close()
    print(f"{open_cases:,} open cases; clocks: {dict(counts)}")


def _time_pages(data: Path, requests: int) -> int:
    os.environ["KIWIDESK_DATA_DIR"] = str(data.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "kiwidesk.settings"
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from kiwidesk.accounts.models import Agent

    setup_test_environment()
    client = Client()
    client.force_login(Agent.objects.get(email="demo@kiwidesk.test"))
    missed = 0
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"{'page':45} {'median':>8} {'p95':>8} {'max':>8}")
    for name, path in PAGES:
        client.get(path)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        missed += p95 >= P95_TARGET_MS
        print(f"{name:45} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} ms")
    print("target p95 < 60 ms:", "met" if not missed else f"missed on {missed} page(s)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
