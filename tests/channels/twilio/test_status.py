"""Twilio's delivery-status callbacks move a sent message forward and become Events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import DeliveryStatus, Event, EventKind, Message
from kiwidesk.cases.services import record_delivery
from kiwidesk.ingest.models import Delivery
from tests.channels.twilio.conftest import STATUS_PATH, form, outbound, post_signed, signature

pytestmark = pytest.mark.django_db

SID = "SM5ef8732a3c49700934481addd5ce1659"
ACCEPTED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def sent(agent: Agent) -> Message:
    """A reply Twilio accepted: the outbox recorded its MessageSid as sent."""
    message = outbound(agent)
    record_delivery(message, DeliveryStatus.SENT, at=ACCEPTED_AT, external_id=SID)
    return message


def status_form(status: str, **extra: str) -> bytes:
    return form(MessageSid=SID, SmsSid=SID, MessageStatus=status, SmsStatus=status, **extra)


def delivery_events(message: Message) -> list[dict[str, object]]:
    events = Event.objects.filter(message=message, kind=EventKind.DELIVERY_UPDATED)
    return [event.payload for event in events.order_by("id")]


def test_a_delivered_callback_marks_the_message_delivered_and_records_an_event(
    client: Client, sent: Message
) -> None:
    response = post_signed(client, STATUS_PATH, status_form("delivered"))

    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED
    assert delivery_events(sent)[-1] == {"previous": "sent", "status": "delivered", "error": ""}


def test_an_undelivered_callback_marks_the_message_failed_with_twilios_error(
    client: Client, sent: Message
) -> None:
    body = status_form("undelivered", ErrorCode="30003", ErrorMessage="Unreachable handset")

    post_signed(client, STATUS_PATH, body)

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.FAILED
    assert delivery_events(sent)[-1] == {
        "previous": "sent",
        "status": "failed",
        "error": "30003 Unreachable handset",
    }


def test_a_read_receipt_after_delivery_marks_the_message_read(
    client: Client, sent: Message
) -> None:
    post_signed(client, STATUS_PATH, status_form("delivered"))

    post_signed(client, STATUS_PATH, status_form("read"))

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.READ
    assert [e["status"] for e in delivery_events(sent)] == ["sent", "delivered", "read"]


def test_a_late_sent_callback_does_not_undo_delivered(client: Client, sent: Message) -> None:
    post_signed(client, STATUS_PATH, status_form("delivered"))

    post_signed(client, STATUS_PATH, status_form("sent"))

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED
    assert [e["status"] for e in delivery_events(sent)] == ["sent", "delivered"]


def test_the_same_callback_delivered_twice_records_one_event(client: Client, sent: Message) -> None:
    post_signed(client, STATUS_PATH, status_form("delivered"))

    post_signed(client, STATUS_PATH, status_form("delivered"))

    assert [e["status"] for e in delivery_events(sent)] == ["sent", "delivered"]


def test_a_queued_callback_changes_nothing(client: Client, sent: Message) -> None:
    response = post_signed(client, STATUS_PATH, status_form("queued"))

    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT
    assert len(delivery_events(sent)) == 1


def test_a_callback_for_an_unknown_message_is_acknowledged_and_ignored(
    client: Client, sent: Message
) -> None:
    body = form(MessageSid="SMunknown", MessageStatus="delivered")

    response = post_signed(client, STATUS_PATH, body)

    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT


def test_an_unsigned_status_callback_is_refused_and_changes_nothing(
    client: Client, sent: Message
) -> None:
    response = client.post(
        STATUS_PATH, data=status_form("failed"), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT
    assert len(delivery_events(sent)) == 1


def test_a_status_callback_is_kept_at_once_and_applied_later(client: Client, sent: Message) -> None:
    body = status_form("delivered")

    response = client.post(
        STATUS_PATH,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature(f"http://testserver{STATUS_PATH}", body)},
    )

    assert response.status_code == 204
    assert bytes(Delivery.objects.get(adapter="twilio-status").raw) == body
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT
