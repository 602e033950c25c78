"""Accept a verified webhook body with one insert; process it later, once, in the worker.

`accept` is all a webhook does after its signature check, so it answers in
milliseconds whatever ingest costs. `process` runs the adapter's handler in the
worker; `requeue_stalled` finds bodies whose queued task was lost (a worker killed
mid-task) so they are queued again.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from kiwidesk.ingest import handlers
from kiwidesk.ingest.models import Delivery
from kiwidesk.ingest.services import quarantine

# A body that fails this often is not going to succeed: quarantine it for an admin.
MAX_ATTEMPTS = 5
# Queued longer ago than this and still unprocessed: its task was lost, queue it again.
STALL_AFTER = timedelta(minutes=1)


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    SKIPPED = "skipped"  # already processed: a duplicate task, or a sweep that raced one
    RETRY = "retry"
    QUARANTINED = "quarantined"


@transaction.atomic
def accept(raw: bytes, *, adapter: str, channel: str, source: str) -> Delivery:
    """Store a verified body and queue its processing; the task is seen only after commit.

    With the database task queue the task row is written in the delivery's own
    transaction: one write (SQLite has a single writer, and this is the webhook's
    whole cost), and the two commit together, so no crash can keep one without the
    other. Any other queue is asked on commit, so its worker never looks for a row a
    rollback took back (`robust`: the body is already safe then, and a lost
    enqueue is what the stall sweep recovers).
    """
    delivery = Delivery.objects.create(adapter=adapter, channel=channel, source=source, raw=raw)
    if _queue_is_in_the_database():
        _queue(delivery.pk)
    else:
        transaction.on_commit(partial(_queue, delivery.pk), robust=True)
    return delivery


def process(delivery_id: int) -> Outcome:
    """Run the adapter's handler on one delivery, once; idempotent.

    The row is locked and marked processed in the handler's transaction, so two
    tasks for the same delivery (a sweep racing the original) run it once. A
    failure rolls all of it back and counts an attempt; the last attempt
    quarantines the raw bytes instead.
    """
    try:
        with transaction.atomic():
            delivery = _lock_unprocessed(delivery_id)
            if delivery is None:
                return Outcome.SKIPPED
            handlers.handler_for(delivery.adapter)(bytes(delivery.raw), delivery.source)
            _mark_processed(delivery)
    # Whatever the handler raised, the body must not be lost: count it and decide.
    except Exception as error:
        return _record_failure(delivery_id, error)
    return Outcome.PROCESSED


def requeue_stalled() -> list[int]:
    """Claim the unprocessed deliveries queued more than STALL_AFTER ago; return their ids.

    Their `queued_at` moves to now in the same statement's transaction, so a
    second sweep soon after does not queue them again.
    """
    now = timezone.now()
    with transaction.atomic():
        stalled = Delivery.objects.filter(
            processed_at__isnull=True, queued_at__lt=now - STALL_AFTER
        )
        ids = list(stalled.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def _lock_unprocessed(delivery_id: int) -> Delivery | None:
    return (
        Delivery.objects.select_for_update()
        .filter(pk=delivery_id, processed_at__isnull=True)
        .first()
    )


def _mark_processed(delivery: Delivery) -> None:
    delivery.processed_at = timezone.now()
    delivery.attempts += 1
    delivery.save(update_fields=["processed_at", "attempts"])


@transaction.atomic
def _record_failure(delivery_id: int, error: Exception) -> Outcome:
    delivery = _lock_unprocessed(delivery_id)
    if delivery is None:
        return Outcome.SKIPPED
    delivery.attempts += 1
    delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
    if delivery.attempts < MAX_ATTEMPTS:
        delivery.save(update_fields=["attempts", "last_error"])
        return Outcome.RETRY
    quarantine(
        bytes(delivery.raw),
        channel=delivery.channel,
        adapter=delivery.adapter,
        source=delivery.source,
        reason=f"failed {delivery.attempts} times: {delivery.last_error}",
    )
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["attempts", "last_error", "processed_at"])
    return Outcome.QUARANTINED


def _queue_is_in_the_database() -> bool:
    from kiwidesk.ingest import tasks

    return isinstance(tasks.process_delivery.get_backend(), DatabaseBackend)


def _queue(delivery_id: int) -> None:
    # Imported here because the task module imports this one to call its verbs.
    from kiwidesk.ingest import tasks

    tasks.queue_delivery(delivery_id)
