"""The outbox: a reply is sent after commit, once, with retries that end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import outbox, tasks
from kiwidesk.cases.models import Channel, DeliveryStatus, Event, EventKind, Message, OutboxItem
from kiwidesk.cases.services import (
    MAX_SEND_ATTEMPTS,
    NOT_CLAIMED,
    SendOutcome,
    deliver_outbound,
    receive_message,
    recover_stalled_sends,
    reply,
)
from tests.factories.cases import customer_thread, make_case

pytestmark = pytest.mark.django_db

WRITTEN_AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class StandInSender:
    """A channel's sender: records what it saw, answers with a provider id or a failure."""

    def __init__(self) -> None:
        self.failures: list[BaseException] = []
        self.seen: list[tuple[int, str]] = []

    def __call__(self, message: Message) -> str:
        stored = Message.objects.get(pk=message.pk)
        self.seen.append((message.pk, stored.delivery_status))
        if self.failures:
            raise self.failures.pop(0)
        return f"provider-{message.pk}"


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> StandInSender:
    """The stand-in registered as the web chat's sender, for this test only."""
    monkeypatch.setattr(outbox, "_SENDERS", dict(outbox._SENDERS))
    stand_in = StandInSender()
    outbox.register(Channel.CHAT, stand_in)
    return stand_in


def chat_reply(
    agent: Agent, *, text: str = "We have re-sent the link.", at: datetime = WRITTEN_AT
) -> Message:
    case = make_case(channel=Channel.CHAT, at=at)
    return reply(agent, customer_thread(case), text=text, at=at)


def reply_in_a_request_that_fails(agent: Agent) -> None:
    with transaction.atomic():
        chat_reply(agent)
        raise RuntimeError("the request failed after the reply")


def delivery_events(message: Message) -> list[dict[str, Any]]:
    return [
        event.payload
        for event in Event.objects.filter(message=message, kind=EventKind.DELIVERY_UPDATED)
    ]


def transient() -> outbox.SendError:
    return outbox.SendError("the provider answered 503", is_permanent=False)


def test_a_reply_waits_in_the_outbox_as_pending(agent: Agent) -> None:
    message = chat_reply(agent)

    assert message.delivery_status == DeliveryStatus.PENDING
    assert OutboxItem.objects.get(message=message).attempts == 0


def test_a_reply_is_sent_once_its_transaction_commits(
    agent: Agent,
    sender: StandInSender,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.TASKS = IMMEDIATE

    with django_capture_on_commit_callbacks(execute=True):
        message = chat_reply(agent)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.external_id == f"provider-{message.pk}"


def test_a_reply_rolled_back_is_never_sent(
    agent: Agent,
    sender: StandInSender,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.TASKS = IMMEDIATE

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        reply_in_a_request_that_fails(agent)

    assert callbacks == []
    assert sender.seen == []
    assert Message.objects.filter(direction="outbound").count() == 0


def test_the_sender_sees_the_message_claimed_as_sending(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)

    deliver_outbound(message.pk, at=WRITTEN_AT)

    assert sender.seen == [(message.pk, DeliveryStatus.SENDING)]


def test_a_sent_message_records_the_provider_id_and_leaves_the_outbox(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)

    outcome = deliver_outbound(message.pk, at=WRITTEN_AT)

    message.refresh_from_db()
    assert outcome == SendOutcome(DeliveryStatus.SENT)
    assert (message.delivery_status, message.external_id) == ("sent", f"provider-{message.pk}")
    assert delivery_events(message) == [{"previous": "sending", "status": "sent", "error": ""}]
    assert OutboxItem.objects.filter(message=message).exists() is False


def test_sending_a_sent_message_again_does_nothing(agent: Agent, sender: StandInSender) -> None:
    message = chat_reply(agent)
    deliver_outbound(message.pk, at=WRITTEN_AT)

    outcome = deliver_outbound(message.pk, at=WRITTEN_AT + timedelta(minutes=1))

    assert outcome == NOT_CLAIMED
    assert len(sender.seen) == 1
    assert len(delivery_events(message)) == 1


def test_a_transient_failure_puts_the_message_back_with_a_retry_a_minute_later(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.append(transient())

    outcome = deliver_outbound(message.pk, at=WRITTEN_AT)

    message.refresh_from_db()
    assert outcome == SendOutcome("pending", retry_at=WRITTEN_AT + timedelta(minutes=1))
    assert message.delivery_status == DeliveryStatus.PENDING
    assert OutboxItem.objects.get(message=message).attempts == 1


def test_a_transient_failure_is_recorded_with_its_reason_and_retry_time(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.append(transient())

    deliver_outbound(message.pk, at=WRITTEN_AT)

    assert delivery_events(message) == [
        {
            "previous": "sending",
            "status": "pending",
            "error": "the provider answered 503",
            "retry_at": "2026-05-04T10:01:00+00:00",
            "attempt": 1,
        }
    ]


def test_a_retry_before_it_is_due_does_nothing(agent: Agent, sender: StandInSender) -> None:
    message = chat_reply(agent)
    sender.failures.append(transient())
    deliver_outbound(message.pk, at=WRITTEN_AT)

    outcome = deliver_outbound(message.pk, at=WRITTEN_AT + timedelta(seconds=30))

    assert outcome == NOT_CLAIMED
    assert len(sender.seen) == 1


def test_retries_back_off_and_the_fifth_failure_is_final(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.extend(transient() for _ in range(MAX_SEND_ATTEMPTS))
    at, waits = WRITTEN_AT, []

    for _ in range(MAX_SEND_ATTEMPTS):
        outcome = deliver_outbound(message.pk, at=at)
        if outcome.retry_at is not None:
            waits.append(outcome.retry_at - at)
            at = outcome.retry_at

    message.refresh_from_db()
    assert waits == [timedelta(minutes=m) for m in (1, 4, 16, 60)]
    assert outcome == SendOutcome(DeliveryStatus.FAILED)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert [event["status"] for event in delivery_events(message)] == ["pending"] * 4 + ["failed"]
    assert delivery_events(message)[-1] == {
        "previous": "sending",
        "status": "failed",
        "error": "Gave up after 5 attempts: the provider answered 503",
    }


def test_a_permanent_failure_fails_the_message_at_once_with_the_reason(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.append(outbox.SendError("the number does not exist", is_permanent=True))

    outcome = deliver_outbound(message.pk, at=WRITTEN_AT)

    message.refresh_from_db()
    assert outcome == SendOutcome(DeliveryStatus.FAILED)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert delivery_events(message) == [
        {"previous": "sending", "status": "failed", "error": "the number does not exist"}
    ]
    assert OutboxItem.objects.filter(message=message).exists() is False


def test_an_unexpected_error_in_a_sender_is_retried_not_left_sending(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.append(KeyError("body"))

    outcome = deliver_outbound(message.pk, at=WRITTEN_AT)

    message.refresh_from_db()
    assert outcome.status == DeliveryStatus.PENDING
    assert message.delivery_status == DeliveryStatus.PENDING


def test_a_reply_on_a_phone_thread_fails_because_nothing_sends_phone_calls(
    agent: Agent,
) -> None:
    case = make_case(channel=Channel.PHONE, at=WRITTEN_AT)
    message = reply(agent, customer_thread(case), text="As discussed on the call.", at=WRITTEN_AT)

    deliver_outbound(message.pk, at=WRITTEN_AT)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert delivery_events(message) == [
        {
            "previous": "sending",
            "status": "failed",
            "error": "Nothing can send on the 'phone' channel.",
        }
    ]


def test_a_send_whose_worker_died_is_handed_back_once_it_has_stalled(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.append(SystemExit("the worker was killed"))
    with pytest.raises(SystemExit):
        deliver_outbound(message.pk, at=WRITTEN_AT)

    still_running = recover_stalled_sends(at=WRITTEN_AT + timedelta(minutes=14))
    recovered = recover_stalled_sends(at=WRITTEN_AT + timedelta(minutes=16))
    outcome = deliver_outbound(message.pk, at=WRITTEN_AT + timedelta(minutes=16))

    assert (still_running, recovered) == ([], [message.pk])
    assert outcome == SendOutcome(DeliveryStatus.SENT)


def test_a_send_that_keeps_killing_its_worker_is_failed_not_retried_for_ever(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.extend(SystemExit("killed") for _ in range(MAX_SEND_ATTEMPTS))
    at = WRITTEN_AT
    for _ in range(MAX_SEND_ATTEMPTS):
        with pytest.raises(SystemExit):
            deliver_outbound(message.pk, at=at)
        at += timedelta(minutes=16)
        recover_stalled_sends(at=at)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert delivery_events(message)[-1]["error"] == "Gave up after 5 attempts that stalled."


def test_a_reply_whose_task_was_lost_is_queued_again_by_the_sweep(agent: Agent) -> None:
    message = chat_reply(agent)
    queued_at = OutboxItem.objects.get(message=message).due_at

    too_soon = recover_stalled_sends(at=queued_at + timedelta(minutes=14))
    overdue = recover_stalled_sends(at=queued_at + timedelta(minutes=16))

    assert (too_soon, overdue) == ([], [message.pk])


def test_inbound_messages_never_enter_the_outbox(agent: Agent) -> None:
    case = make_case(channel=Channel.CHAT, at=WRITTEN_AT)

    receive_message(customer_thread(case), text="Hello?", at=WRITTEN_AT)

    assert OutboxItem.objects.count() == 0
    assert recover_stalled_sends(at=WRITTEN_AT + timedelta(days=1)) == []


def test_the_task_sends_the_message_and_reports_its_status(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)

    status = tasks.send_outbound.call(message.pk)

    assert status == DeliveryStatus.SENT


def test_the_task_queues_a_transient_failure_again_at_its_retry_time(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent)
    sender.failures.append(transient())

    tasks.send_outbound.call(message.pk)

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kiwidesk.cases.tasks.send_outbound"
    assert queued.args_kwargs == {"args": [message.pk], "kwargs": {}}
    assert queued.run_after == OutboxItem.objects.get(message=message).due_at


def test_queueing_a_reply_also_queues_a_stalled_one(agent: Agent) -> None:
    stalled = chat_reply(agent, text="The first answer.", at=WRITTEN_AT)
    fresh = chat_reply(agent, text="The second answer.", at=timezone.now())

    tasks.queue_reply(fresh.pk)

    queued = sorted(r.args_kwargs["args"][0] for r in DBTaskResult.objects.all())
    assert queued == sorted([stalled.pk, fresh.pk])


# SQLite serialises writers (BEGIN IMMEDIATE), so the race only exists on PostgreSQL.
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers")
def test_two_workers_racing_for_one_message_send_it_once(
    agent: Agent, sender: StandInSender
) -> None:
    message = chat_reply(agent, at=timezone.now())
    start = threading.Barrier(2)

    def worker() -> SendOutcome:
        try:
            start.wait()
            return deliver_outbound(message.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda _: worker(), range(2)))

    assert sorted(outcome.status for outcome in outcomes) == ["not_claimed", "sent"]
    assert len(sender.seen) == 1


def test_the_recovery_task_queues_every_stalled_message(agent: Agent) -> None:
    stalled = chat_reply(agent, at=WRITTEN_AT)

    queued = tasks.recover_outbound.call()

    assert queued == [stalled.pk]
    assert DBTaskResult.objects.get().args_kwargs == {"args": [stalled.pk], "kwargs": {}}
