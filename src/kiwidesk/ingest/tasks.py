"""Background jobs of ingest: processing accepted webhook bodies (deliveries).

Tasks take ids and call one verb of `deliveries`; the logic lives there.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from kiwidesk.ingest import deliveries

# How often one process sweeps for lost tasks while it accepts webhooks, and how
# often it asks the worker to drop old processed bodies.
SWEEP_INTERVAL_SECONDS = 60.0
PURGE_INTERVAL_SECONDS = 3600.0
_next_sweep = 0.0
_next_purge = 0.0


@task()
def process_delivery(delivery_id: int) -> str:
    """Process one accepted body; a transient failure is tried again after a backoff."""
    outcome = deliveries.process(delivery_id)
    if outcome == deliveries.Outcome.RETRY:
        retry(delivery_id)
    return outcome.value


@task()
def recover_deliveries() -> list[int]:
    """Queue again every delivery whose task was lost (run at worker start, or from cron)."""
    return requeue_stalled()


@task()
def purge_deliveries() -> int:
    """Drop processed bodies past their keeping time; return how many."""
    return deliveries.purge_processed()


def queue_delivery(delivery_id: int) -> None:
    """Queue a just-committed delivery, and, once a minute, any stalled one with it.

    Sweeping from the accept path means a body whose task died with a worker is
    queued again by later traffic, even where nothing runs `recover_deliveries`;
    the hourly purge rides along so the queue stays small without a scheduler.
    """
    global _next_sweep, _next_purge
    process_delivery.enqueue(delivery_id)
    now = time.monotonic()
    if now >= _next_sweep:
        _next_sweep = now + SWEEP_INTERVAL_SECONDS
        requeue_stalled()
    if now >= _next_purge:
        _next_purge = now + PURGE_INTERVAL_SECONDS
        purge_deliveries.enqueue()


def requeue_stalled() -> list[int]:
    ids = deliveries.requeue_stalled()
    for delivery_id in ids:
        process_delivery.enqueue(delivery_id)
    return ids


def retry(delivery_id: int) -> None:
    """Queue the delivery again after a backoff, when the backend can defer.

    A backend that cannot defer (the immediate one) leaves the retry to the stall
    sweep, which queues the delivery once it is a minute old.
    """
    if process_delivery.get_backend().supports_defer:
        run_after = timezone.now() + timedelta(seconds=10)
        process_delivery.using(run_after=run_after).enqueue(delivery_id)
