"""Background entry point of retention: run the policies, then come back in a day."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from kiwidesk.privacy import retention

RUN_EVERY = timedelta(days=1)


@task()
def run_retention() -> str:
    """Apply the retention policies and queue the next run in `RUN_EVERY`."""
    run = retention.run_retention()
    run_retention.using(run_after=timezone.now() + RUN_EVERY).enqueue()
    return run.describe()


def start() -> None:
    """At worker start: queue a run now unless one is already queued.

    Each worker start would otherwise add one more self-rescheduling chain. A backend
    that cannot defer runs the policies once, here.
    """
    backend = run_retention.get_backend()
    if not backend.supports_defer:
        retention.run_retention()
        return
    if not _queued(run_retention.module_path):
        run_retention.enqueue()


def _queued(task_path: str) -> bool:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY).exists()
