"""WhatsApp status notifications move our sent message forward and become Events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Channel, DeliveryStatus, Event, EventKind, Message
from kiwidesk.cases.services import record_delivery
from tests.channels.twilio.conftest import outbound
from tests.channels.whatsapp.conftest import post_signed, webhook

pytestmark = pytest.mark.django_db

WAMID = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOEQ2"
ACCEPTED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def sent(agent: Agent) -> Message:
    with_window = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    message = outbound(
        agent, channel=Channel.WHATSAPP, inbound_at=with_window, reply_at=ACCEPTED_AT
    )
    record_delivery(message, DeliveryStatus.SENT, at=ACCEPTED_AT, external_id=WAMID)
    return message


def status(name: str, **extra: object) -> dict[str, object]:
    return {
        "id": WAMID,
        "status": name,
        "timestamp": "1772442600",
        "recipient_id": "447700900123",
        **extra,
    }


def delivery_events(message: Message) -> list[Event]:
    return list(
        Event.objects.filter(message=message, kind=EventKind.DELIVERY_UPDATED).order_by("id")
    )


def test_a_delivered_status_marks_the_message_delivered_at_metas_time(
    client: Client, sent: Message
) -> None:
    response = post_signed(client, webhook(statuses=(status("delivered"),)))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.DELIVERED
    event = delivery_events(sent)[-1]
    assert event.payload == {"previous": "sent", "status": "delivered", "error": ""}
    assert event.created_at == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def test_a_failed_status_keeps_metas_error(client: Client, sent: Message) -> None:
    error = {"code": 131047, "title": "Re-engagement message"}

    post_signed(client, webhook(statuses=(status("failed", errors=[error]),)))

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.FAILED
    assert delivery_events(sent)[-1].payload["error"] == "131047 Re-engagement message"


def test_sent_delivered_and_read_in_one_body_end_read(client: Client, sent: Message) -> None:
    statuses = (status("sent"), status("delivered"), status("read"))

    post_signed(client, webhook(statuses=statuses))

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.READ
    assert [e.payload["status"] for e in delivery_events(sent)] == ["sent", "delivered", "read"]


def test_a_played_voice_message_counts_as_read(client: Client, sent: Message) -> None:
    post_signed(client, webhook(statuses=(status("played"),)))

    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.READ


def test_the_same_status_delivered_twice_records_one_event(client: Client, sent: Message) -> None:
    body = webhook(statuses=(status("delivered"),))

    post_signed(client, body)
    post_signed(client, body)

    assert [e.payload["status"] for e in delivery_events(sent)] == ["sent", "delivered"]


def test_a_status_for_a_message_we_did_not_send_is_ignored(client: Client, sent: Message) -> None:
    response = post_signed(client, webhook(statuses=(status("read") | {"id": "wamid.other"},)))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT


def test_an_unsigned_status_is_refused_and_changes_nothing(client: Client, sent: Message) -> None:
    response = client.post(
        "/channels/whatsapp/webhook/",
        data=webhook(statuses=(status("read"),)),
        content_type="application/json",
    )

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT
