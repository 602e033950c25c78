"""Show where a page's time goes: every SQL query it runs, its time and its query plan.

    python bench/explain_pages.py                       # the folder bench_web.py seeded
    python bench/explain_pages.py --data bench/out/web-2000-14000 / /?view=all /cases/42/

Runs the pages in-process through Django's test client, logged in as the demo agent,
so it measures the view and the database without the HTTP server in between.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATA = BENCH_DIR / "out" / "web-100000-1000000"
DEFAULT_PAGES = ("/", "/?view=mine", "/?view=teams", "/?view=pending", "/?view=all", "/cases/1/")
SLOW_MS = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=5, help="runs per page; the last is shown")
    parser.add_argument("pages", nargs="*", default=DEFAULT_PAGES)
    args = parser.parse_args()
    os.environ["KIWIDESK_DATA_DIR"] = str(args.data.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "kiwidesk.settings"
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from kiwidesk.accounts.models import Agent

    setup_test_environment()
    client = Client()
    client.force_login(Agent.objects.get(email="demo@kiwidesk.test"))
    for page in args.pages:
        _explain(client, page, args.repeat)
    return 0


def _explain(client: object, page: str, repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(page)  # type: ignore[attr-defined]
            total_ms = (time.perf_counter() - started) * 1000
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    print(f"\n{page}  -> {response.status_code}, {total_ms:.1f} ms in all, "
          f"{len(captured)} queries taking {sql_ms:.1f} ms")  # fmt: skip
    for query in captured.captured_queries:
        query_ms = float(query["time"]) * 1000
        print(f"  {query_ms:6.1f} ms  {query['sql'][:150]}")
        if query_ms >= SLOW_MS and query["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
                for row in cursor.fetchall():
                    print(f"             plan: {row[-1]}")


if __name__ == "__main__":
    sys.exit(main())
