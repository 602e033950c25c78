"""Accepted webhook bodies are processed once, retried on failure, and never lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from kiwidesk.ingest import deliveries, handlers, tasks
from kiwidesk.ingest.deliveries import MAX_ATTEMPTS, Outcome
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from tests.queue import queue_commits

pytestmark = pytest.mark.django_db

ARRIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BODY = b"MessageSid=SM0001&From=%2B447700900123&Body=Hello"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


class Recorder:
    """A handler that records each body it is given, and fails while told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, str]] = []
        self.failures_left = 0

    def __call__(self, raw: bytes, source: str) -> None:
        self.calls.append((raw, source))
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("database is locked")


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(handlers, "_HANDLERS", {})
    handlers.register("test", recorder)
    return recorder


@pytest.fixture
def queued(settings: Any) -> Iterator[list[Any]]:
    """The tasks enqueued, recorded by django-tasks' dummy backend instead of run."""
    settings.TASKS = DUMMY
    backend = tasks.process_delivery.get_backend()
    yield backend.results  # type: ignore[attr-defined]
    backend.clear()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _sweep_not_due(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "_next_sweep", float("inf"))
    monkeypatch.setattr(tasks, "_next_purge", float("inf"))


def accepted(*, at: datetime = ARRIVED) -> Delivery:
    with time_machine.travel(at, tick=False):
        return deliveries.accept(BODY, adapter="test", channel="sms", source="twilio:+15005550006")


def queued_ids(results: list[Any]) -> list[int]:
    return [result.args[0] for result in results]


def test_accepting_stores_the_body_unprocessed(handler: Recorder) -> None:
    delivery = accepted()

    stored = Delivery.objects.get()
    assert stored.pk == delivery.pk
    assert (bytes(stored.raw), stored.adapter, stored.source) == (
        BODY,
        "test",
        "twilio:+15005550006",
    )
    assert (stored.received_at, stored.processed_at, stored.attempts) == (ARRIVED, None, 0)
    assert handler.calls == []


def test_the_task_is_queued_only_when_the_insert_commits(
    handler: Recorder, queued: list[Any]
) -> None:
    with queue_commits(execute=False) as callbacks:
        delivery = accepted()

    assert queued == []
    callbacks[0]()
    assert queued_ids(queued) == [delivery.pk]


def test_the_queued_task_runs_the_adapters_handler_on_the_body(
    handler: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE

    with queue_commits(execute=True):
        delivery = accepted()

    assert handler.calls == [(BODY, "twilio:+15005550006")]
    delivery.refresh_from_db()
    assert delivery.processed_at is not None
    assert delivery.attempts == 1


def test_a_processed_delivery_is_not_processed_again(handler: Recorder) -> None:
    delivery = accepted()
    deliveries.process(delivery.pk)

    outcome = deliveries.process(delivery.pk)

    assert outcome == Outcome.SKIPPED
    assert len(handler.calls) == 1


def test_a_failure_is_counted_and_left_for_a_retry(handler: Recorder) -> None:
    delivery = accepted()
    handler.failures_left = 1

    outcome = deliveries.process(delivery.pk)

    assert outcome == Outcome.RETRY
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.processed_at) == (1, None)
    assert delivery.last_error == "RuntimeError: database is locked"
    assert QuarantinedMessage.objects.count() == 0


def test_a_retry_after_a_failure_processes_the_body(handler: Recorder) -> None:
    delivery = accepted()
    handler.failures_left = 1
    deliveries.process(delivery.pk)

    outcome = deliveries.process(delivery.pk)

    assert outcome == Outcome.PROCESSED
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.processed_at is not None


def test_a_body_that_keeps_failing_is_quarantined_with_its_bytes(handler: Recorder) -> None:
    delivery = accepted()
    handler.failures_left = MAX_ATTEMPTS

    outcomes = [deliveries.process(delivery.pk) for _ in range(MAX_ATTEMPTS)]

    assert outcomes == [Outcome.RETRY] * (MAX_ATTEMPTS - 1) + [Outcome.QUARANTINED]
    item = QuarantinedMessage.objects.get()
    assert bytes(item.raw) == BODY
    assert (item.channel, item.adapter, item.source) == ("sms", "test", "twilio:+15005550006")
    assert item.reason == "failed 5 times: RuntimeError: database is locked"
    delivery.refresh_from_db()
    assert delivery.processed_at is not None


def test_a_body_of_an_adapter_without_a_handler_fails_and_is_counted(handler: Recorder) -> None:
    delivery = deliveries.accept(BODY, adapter="gone", channel="sms", source="twilio:+1")

    outcome = deliveries.process(delivery.pk)

    assert outcome == Outcome.RETRY
    delivery.refresh_from_db()
    assert delivery.last_error == "NoHandlerError: no handler is registered for the 'gone' adapter"


def test_a_failure_recorded_after_another_task_processed_the_body_changes_nothing(
    handler: Recorder,
) -> None:
    delivery = accepted()
    deliveries.process(delivery.pk)

    outcome = deliveries._record_failure(delivery.pk, RuntimeError("late"))

    assert outcome == Outcome.SKIPPED
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_error) == (1, "")


def test_the_task_queues_a_retry_after_a_backoff(handler: Recorder, queued: list[Any]) -> None:
    delivery = accepted()
    handler.failures_left = 1

    with time_machine.travel(ARRIVED, tick=False):
        result = tasks.process_delivery.call(delivery.pk)

    assert result == "retry"
    assert queued_ids(queued) == [delivery.pk]
    assert queued[0].task.run_after == ARRIVED + timedelta(seconds=10)


def test_without_deferred_tasks_a_retry_is_left_to_the_stall_sweep(
    handler: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    delivery = accepted()
    handler.failures_left = 1

    result = tasks.process_delivery.call(delivery.pk)

    assert result == "retry"
    assert len(handler.calls) == 1


def test_a_delivery_whose_task_was_lost_is_processed_by_the_recovery_sweep(
    handler: Recorder, settings: Any
) -> None:
    # The worker died holding the task: the on-commit queueing happened, nothing ran.
    delivery = accepted()
    settings.TASKS = IMMEDIATE

    with time_machine.travel(ARRIVED + timedelta(minutes=2), tick=False):
        recovered = tasks.recover_deliveries.call()

    assert recovered == [delivery.pk]
    assert handler.calls == [(BODY, "twilio:+15005550006")]
    delivery.refresh_from_db()
    assert delivery.processed_at is not None


def test_a_delivery_queued_less_than_a_minute_ago_is_left_to_its_task(
    handler: Recorder, queued: list[Any]
) -> None:
    accepted()

    with time_machine.travel(ARRIVED + timedelta(seconds=59), tick=False):
        recovered = tasks.recover_deliveries.call()

    assert recovered == []
    assert queued == []


def test_a_swept_delivery_is_not_queued_again_by_the_next_sweep(
    handler: Recorder, queued: list[Any]
) -> None:
    delivery = accepted()
    with time_machine.travel(ARRIVED + timedelta(minutes=2), tick=False):
        tasks.recover_deliveries.call()

    with time_machine.travel(ARRIVED + timedelta(minutes=2, seconds=30), tick=False):
        again = tasks.recover_deliveries.call()

    assert again == []
    assert queued_ids(queued) == [delivery.pk]


def test_a_processed_delivery_is_never_swept(handler: Recorder, queued: list[Any]) -> None:
    delivery = accepted()
    deliveries.process(delivery.pk)

    with time_machine.travel(ARRIVED + timedelta(hours=1), tick=False):
        recovered = tasks.recover_deliveries.call()

    assert recovered == []


def test_accepting_webhooks_sweeps_for_lost_tasks_once_a_minute(
    handler: Recorder, queued: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = accepted()
    monkeypatch.setattr(tasks, "_next_sweep", 0.0)
    later = ARRIVED + timedelta(minutes=5)

    with (
        time_machine.travel(later, tick=False),
        queue_commits(execute=True),
    ):
        first = deliveries.accept(BODY, adapter="test", channel="sms", source="twilio:+1")
        second = deliveries.accept(BODY, adapter="test", channel="sms", source="twilio:+1")

    assert queued_ids(queued) == [first.pk, lost.pk, second.pk]


def test_a_delivery_names_its_adapter_source_and_arrival() -> None:
    delivery = accepted()

    assert str(delivery) == "test delivery to twilio:+15005550006 at 2026-03-02 09:00:00"


def test_with_the_database_queue_the_task_is_written_in_the_deliverys_transaction(
    handler: Recorder, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    with queue_commits(execute=False) as callbacks:
        delivery = accepted()

    assert callbacks == []
    (task,) = DBTaskResult.objects.all()
    assert (task.task_path, task.args_kwargs) == (
        "kiwidesk.ingest.tasks.process_delivery",
        {"args": [delivery.pk], "kwargs": {}},
    )


def test_processed_bodies_are_purged_after_a_week_and_unprocessed_ones_kept(
    handler: Recorder,
) -> None:
    old = accepted()
    with time_machine.travel(ARRIVED, tick=False):
        deliveries.process(old.pk)
    recent = accepted(at=ARRIVED + timedelta(days=6))
    with time_machine.travel(ARRIVED + timedelta(days=6), tick=False):
        deliveries.process(recent.pk)
    waiting = accepted()

    with time_machine.travel(ARRIVED + timedelta(days=8), tick=False):
        purged = tasks.purge_deliveries.call()

    assert purged == 1
    assert sorted(Delivery.objects.values_list("pk", flat=True)) == [recent.pk, waiting.pk]


def test_accepting_webhooks_queues_the_purge_once_an_hour(
    handler: Recorder, queued: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "_next_purge", 0.0)

    with queue_commits(execute=True):
        accepted()
        accepted()

    paths = [result.task.module_path for result in queued]
    assert paths.count("kiwidesk.ingest.tasks.purge_deliveries") == 1


def test_a_body_whose_mark_was_lost_in_a_crash_is_handled_again(
    handler: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = accepted()
    crash = RuntimeError("worker killed after the handler committed")
    monkeypatch.setattr(deliveries, "_mark_processed", lambda _id: (_ for _ in ()).throw(crash))
    with pytest.raises(RuntimeError):
        deliveries.process(delivery.pk)
    monkeypatch.undo()
    handlers.register("test", handler)

    outcome = deliveries.process(delivery.pk)

    assert outcome == Outcome.PROCESSED
    assert len(handler.calls) == 2
