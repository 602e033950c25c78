"""Accept a verified webhook body with one insert; process it later, once, in the worker.

`accept` is all a webhook does after its signature check, so it answers in
milliseconds whatever ingest costs. `process` runs the adapter's handler in the
worker; `requeue_stalled` finds bodies whose queued task was lost (a worker killed
mid-task) so they are queued again.
"""

from __future__ import annotations

import enum
import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from functools import partial

from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from kiwidesk.ingest import handlers
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from kiwidesk.ingest.services import quarantine

# A body that fails this often is not going to succeed: quarantine it for an admin.
MAX_ATTEMPTS = 5
# Queued longer ago than this and still unprocessed: its task was lost, queue it again.
STALL_AFTER = timedelta(minutes=1)
# How long a processed body is kept as a record of its arrival.
KEEP_PROCESSED = timedelta(days=7)


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    SKIPPED = "skipped"  # already processed: a duplicate task, or a sweep that raced one
    RETRY = "retry"
    QUARANTINED = "quarantined"


def accept(raw: bytes, *, adapter: str, channel: str, source: str) -> Delivery:
    """Store a verified body and queue its processing; the task is seen only after commit.

    With the database task queue the task row is written in the delivery's own
    transaction: one write (SQLite has a single writer, and this is the webhook's
    whole cost), and the two commit together, so no crash can keep one without the
    other. Any other queue is asked on commit, so its worker never looks for a row a
    rollback took back (`robust`: the body is already safe then, and a lost
    enqueue is what the stall sweep recovers).
    """
    with _one_writer_at_a_time(), transaction.atomic(using=_queue_db()):
        delivery = Delivery.objects.create(adapter=adapter, channel=channel, source=source, raw=raw)
        if _queue_is_in_the_database():
            _queue(delivery.pk)
        else:
            transaction.on_commit(partial(_queue, delivery.pk), using=_queue_db(), robust=True)
    return delivery


# SQLite lets one connection write at a time, and a connection waiting for the lock
# sleeps in SQLite's busy handler in growing steps (up to 100 ms) however soon the lock
# is free. Server threads of one process therefore queue here instead, where the lock
# passes on at once; on PostgreSQL, with row locks, they do not wait at all.
_SQLITE_WRITER = threading.Lock()


def _one_writer_at_a_time() -> AbstractContextManager[object]:
    is_sqlite = connections[_queue_db()].vendor == "sqlite"
    return _SQLITE_WRITER if is_sqlite else nullcontext()


def redeliver(item: QuarantinedMessage) -> Delivery:
    """Hand a quarantined webhook body back to its adapter's handler, in the worker.

    For bodies that are not one message (a WhatsApp body of several, a call's
    recording callback): their handler, not a parser, knows what to do with them.
    Raises NoHandlerError when the adapter registered none; the item is left as it was.
    """
    handlers.handler_for(item.adapter)
    delivery = accept(
        bytes(item.raw), adapter=item.adapter, channel=item.channel, source=item.source
    )
    item.reprocessed_at = timezone.now()
    item.save(update_fields=["reprocessed_at"])
    return delivery


def process(delivery_id: int) -> Outcome:
    """Run the adapter's handler on one delivery and mark it processed; idempotent.

    The handler's writes commit in their own transaction and the mark after them:
    on SQLite the queue is another file (kiwidesk.dbrouter), and holding its lock
    through ingest would stall every webhook. So a crash between the two, or a
    sweep racing the original task, runs a handler twice on the same body; every
    handler is idempotent (ingest keys on the provider's message id, statuses only
    move forward). A failure counts an attempt; the last attempt quarantines the
    raw bytes instead.
    """
    delivery = Delivery.objects.filter(pk=delivery_id, processed_at__isnull=True).first()
    if delivery is None:
        return Outcome.SKIPPED
    try:
        with transaction.atomic():
            handlers.handler_for(delivery.adapter)(bytes(delivery.raw), delivery.source)
    # Whatever the handler raised, the body must not be lost: count it and decide.
    except Exception as error:
        return _record_failure(delivery_id, error)
    _mark_processed(delivery_id)
    return Outcome.PROCESSED


def requeue_stalled() -> list[int]:
    """Claim the unprocessed deliveries queued more than STALL_AFTER ago; return their ids.

    Their `queued_at` moves to now in the same statement's transaction, so a
    second sweep soon after does not queue them again.
    """
    now = timezone.now()
    with transaction.atomic(using=_queue_db()):
        stalled = Delivery.objects.filter(
            processed_at__isnull=True, queued_at__lt=now - STALL_AFTER
        )
        ids = list(stalled.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def purge_processed(*, older_than: timedelta = KEEP_PROCESSED) -> int:
    """Delete processed bodies older than `older_than`; return how many.

    Once processed, the body's messages are stored (raw bytes included) or it is
    quarantined, so the delivery is only a record of arrival; kept for a while to
    answer "did it arrive?", then dropped so the queue stays small.
    """
    cutoff = timezone.now() - older_than
    deleted, _ = Delivery.objects.filter(processed_at__lt=cutoff).delete()
    return deleted


def _queue_db() -> str:
    return router.db_for_write(Delivery)


def _lock_unprocessed(delivery_id: int) -> Delivery | None:
    return (
        Delivery.objects.select_for_update()
        .filter(pk=delivery_id, processed_at__isnull=True)
        .first()
    )


def _mark_processed(delivery_id: int) -> None:
    Delivery.objects.filter(pk=delivery_id, processed_at__isnull=True).update(
        processed_at=timezone.now(), attempts=F("attempts") + 1
    )


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
