"""`kiwidesk sla recompute`: every case's clocks rebuilt from its events, in one or two
processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiwidesk.cases.models import Priority
from kiwidesk.cli import main
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from tests.factories.cases import make_case

REBUILD_TWICE = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "kiwidesk.settings"
import django
django.setup()
from datetime import UTC, datetime
from django.core.management import call_command
from kiwidesk.seed.load import seed_database
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from kiwidesk.sla.rebuild import rebuild_clocks

for alias in ("default", "queue"):
    call_command("migrate", database=alias, verbosity=0)
seed_database(cases=80, messages=400, seed=3)
policy = Policy.objects.create(name="All")
for metric in Metric:
    for priority in ("low", "normal", "high", "urgent"):
        Target.objects.create(policy=policy, metric=metric, priority=priority, minutes=240)
as_of = datetime(2030, 1, 1, tzinfo=UTC)
columns = ("case_id", "metric", "thread_id", "state", "due_at", "elapsed_seconds", "breaches")
found = []
for workers in (1, 2):
    summary = rebuild_clocks(workers=workers, batch=7, as_of=as_of)
    rows = Clock.objects.order_by("case_id", "metric", "thread_id").values_list(*columns)
    found.append([summary.cases, summary.clocks, [str(row) for row in rows]])
print(json.dumps(found))
"""


def test_sla_recompute_rebuilds_every_case_and_says_how_many(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = Policy.objects.create(name="Standard")
    Target.objects.create(
        policy=policy, metric=Metric.RESOLUTION, priority=Priority.NORMAL, minutes=60
    )
    cases = [make_case(), make_case()]
    Clock.objects.all().delete()

    code = main(["sla", "recompute", "--quiet"])

    assert code == 0
    assert Clock.objects.filter(case__in=cases, metric="resolution").count() == 2
    assert capsys.readouterr().out.startswith("Rebuilt 2 clocks of 2 cases from 4 events in ")


def test_two_processes_build_the_same_clocks_as_one(tmp_path: Path) -> None:
    # A database of its own in a file: forked processes cannot share the test database.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["KIWIDESK_DATA_DIR"] = str(tmp_path)

    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", REBUILD_TWICE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    (one_cases, one_clocks, one), (two_cases, two_clocks, two) = json.loads(done.stdout)
    assert (one_cases, two_cases) == (80, 80)
    assert one_clocks == two_clocks == len(one) > 80
    assert one == two
