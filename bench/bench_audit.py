"""Time the chained audit record against the plain insert it replaced, on SQLite and PostgreSQL.

    python bench/bench_audit.py                  # 5,000 records per backend
    python bench/bench_audit.py --records 1000   # a quick run
    python bench/bench_audit.py --no-postgres    # SQLite only

Each backend gets a fresh database (a new folder under bench/out/ for SQLite, a throw-away
embedded PostgreSQL server via scripts/with_postgres.py) and runs in its own process. There,
one writer appends `--records` records through `privacy.audit.record` (each its own
transaction: lock the chain, read the head, hash, insert), then times `verify_chain` over
them, then appends as many rows with one plain `INSERT` each, as `access_case` did before
the chain (no lock, no head read, no hash). Prints records per second for each and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.records)))
        return 0
    rows = {"SQLite": _run_child(args.records, postgres=False)}
    if not args.no_postgres:
        rows["PostgreSQL"] = _run_child(args.records, postgres=True)
    _print_table(args.records, rows)
    return 0


def _run_child(records: int, *, postgres: bool) -> dict[str, float]:
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = tempfile.mkdtemp(prefix="bench-audit-", dir=OUT)
    env = {**os.environ, "KIWIDESK_DATA_DIR": data_dir}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, __file__, "--child", "--records", str(records)]
    if postgres:
        command = [sys.executable, str(ROOT / "scripts" / "with_postgres.py"), *command]
    output = subprocess.run(  # noqa: S603 - this script and the virtualenv's own Python
        command, env=env, check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def _measure(records: int) -> dict[str, float]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiwidesk.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from kiwidesk.accounts.models import Agent
    from kiwidesk.privacy import audit
    from kiwidesk.privacy.models import AuditOutcome, AuditRecord

    agent = Agent.objects.create_user("bench@kiwidesk.test", name="Bench")

    started = time.perf_counter()
    for case_id in range(records):
        audit.record(agent, "case.view", "case", case_id, AuditOutcome.GRANTED)
    chained = time.perf_counter() - started

    started = time.perf_counter()
    report = audit.verify_chain()
    verified = time.perf_counter() - started
    if not report.is_intact or report.records != records:
        raise SystemExit(f"the benchmark's own chain is broken: {report}")

    started = time.perf_counter()
    for case_id in range(records):
        AuditRecord.objects.create(
            actor=agent,
            action="case.view",
            object_type="case",
            object_id=str(case_id),
            outcome=AuditOutcome.GRANTED,
            sequence=records + case_id + 1,
        )
    plain = time.perf_counter() - started
    return {
        "chained_per_s": records / chained,
        "plain_per_s": records / plain,
        "verified_per_s": records / verified,
    }


def _print_table(records: int, rows: dict[str, dict[str, float]]) -> None:
    print(f"{records:,} records, one writer, one transaction each")
    print(f"{'backend':<12} {'plain insert/s':>15} {'chained/s':>10} {'cost':>6} {'verify/s':>10}")
    for backend, row in rows.items():
        cost = row["plain_per_s"] / row["chained_per_s"]
        print(
            f"{backend:<12} {row['plain_per_s']:>15,.0f} {row['chained_per_s']:>10,.0f} "
            f"{cost:>5.2f}x {row['verified_per_s']:>10,.0f}"
        )


if __name__ == "__main__":
    sys.exit(main())
