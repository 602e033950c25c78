"""Background jobs of cases: sending outbound messages (the outbox, STYLE.md §11.4).

Tasks take ids and call one service; the logic is in services.deliver_outbound,
services.recover_stalled_sends and services.merge_as_team_prefers.
"""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from kiwidesk.cases import services


@task()
def send_outbound(message_id: int) -> str:
    """Send one pending outbound message; schedule the retry a transient failure asks for."""
    outcome = services.deliver_outbound(message_id)
    if outcome.retry_at is not None:
        enqueue_send(message_id, run_after=outcome.retry_at)
    return outcome.status


@task()
def merge_suggested_case(source_id: int, target_id: int) -> int | None:
    """Merge a new case into the customer's open one if that case's team asks for it."""
    merged = services.merge_as_team_prefers(source_id, target_id)
    return None if merged is None else merged.pk


@task()
def recover_outbound() -> list[int]:
    """Queue again every stalled outbox message (run at worker start, or from cron)."""
    return requeue_stalled()


def queue_reply(message_id: int) -> None:
    """Queue a just-committed reply, and any stalled message with it.

    Sweeping on every reply means a message stalled by a dead worker is sent again
    by the next reply, even where nothing runs `recover_outbound` on a schedule.
    """
    enqueue_send(message_id)
    requeue_stalled()


def requeue_stalled() -> list[int]:
    ids = services.recover_stalled_sends()
    for message_id in ids:
        enqueue_send(message_id)
    return ids


def enqueue_send(message_id: int, *, run_after: datetime | None = None) -> None:
    """Queue `send_outbound(message_id)`, at `run_after` when the backend can defer.

    A backend that cannot defer (the immediate one, for development) leaves the retry
    to the stall sweep, which queues the message once it is overdue.
    """
    if run_after is None:
        send_outbound.enqueue(message_id)
    elif send_outbound.get_backend().supports_defer:
        send_outbound.using(run_after=run_after).enqueue(message_id)
