"""Each channel's sender as the outbox calls it, and the WhatsApp window refused up front."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import issue_token
from kiwidesk.cases import outbox
from kiwidesk.cases.models import Channel, DeliveryStatus, Event, EventKind, Message, Thread
from kiwidesk.cases.services import deliver_outbound, receive_message, reply
from kiwidesk.channels.common import OutsideMessagingWindowError
from kiwidesk.channels.twilio import adapter as twilio_adapter
from kiwidesk.channels.twilio.client import twilio_client
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.api.conftest import ApiClient
from tests.channels.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_NUMBER,
    SUPPORT_NUMBER,
    RecordingHttpClient,
)
from tests.channels.whatsapp.conftest import (  # noqa: F401 - `graph` is a fixture
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    GraphStandIn,
    graph,
)
from tests.factories.cases import customer_thread, make_case

pytestmark = pytest.mark.django_db

WINDOW_REFUSAL = (
    "The customer last wrote more than 24 hours ago, so WhatsApp allows only an "
    "approved template message until they write again."
)
TWILIO_SID = "SM5ef8732a3c49700934481addd5ce1659"
WAMID = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOEQ2"


@pytest.fixture
def twilio(settings: Any, monkeypatch: pytest.MonkeyPatch) -> RecordingHttpClient:
    """Twilio configured for SMS and WhatsApp, its REST transport replaced by a recorder."""
    settings.KIWIDESK_TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.KIWIDESK_TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.KIWIDESK_TWILIO_SMS_FROM = SUPPORT_NUMBER
    settings.KIWIDESK_TWILIO_WHATSAPP_FROM = SUPPORT_NUMBER
    settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN = ""
    settings.KIWIDESK_PUBLIC_URL = ""
    http = RecordingHttpClient()
    monkeypatch.setattr(twilio_adapter, "twilio_client", lambda: twilio_client(http))
    return http


@pytest.fixture
def meta(settings: Any, graph: GraphStandIn) -> GraphStandIn:  # noqa: F811 - the fixture
    """Meta's Cloud API configured, answered by a local stand-in."""
    settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN = ACCESS_TOKEN
    settings.KIWIDESK_WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID
    settings.KIWIDESK_WHATSAPP_GRAPH_URL = graph.url
    return graph


def conversation(channel: str, *, wrote_hours_ago: float = 1) -> Thread:
    """A customer thread whose customer last wrote `wrote_hours_ago` hours ago."""
    kind = IdentityKind.WHATSAPP if channel == Channel.WHATSAPP else IdentityKind.PHONE
    customer = find_or_create_contact(kind, CUSTOMER_NUMBER, name="Customer Example")
    wrote_at = timezone.now() - timedelta(hours=wrote_hours_ago)
    return customer_thread(make_case(customer=customer, channel=channel, at=wrote_at))


def delivery_error(message: Message) -> str:
    event = Event.objects.get(message=message, kind=EventKind.DELIVERY_UPDATED)
    return str(event.payload["error"])


def test_an_sms_reply_is_sent_through_twilio_and_keeps_its_sid(
    agent: Agent, twilio: RecordingHttpClient
) -> None:
    message = reply(agent, conversation(Channel.SMS), text="Your table is booked.")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert (message.delivery_status, message.external_id) == ("sent", TWILIO_SID)
    assert twilio.requests[0]["data"]["To"] == CUSTOMER_NUMBER


def test_a_twilio_refusal_fails_the_message_with_twilios_reason(
    agent: Agent, twilio: RecordingHttpClient
) -> None:
    twilio.status = 400
    twilio.body = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    message = reply(agent, conversation(Channel.SMS), text="Your table is booked.")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "Invalid 'To' Phone Number" in delivery_error(message)


def test_twilio_failing_for_a_moment_leaves_the_sms_for_a_retry(
    agent: Agent, twilio: RecordingHttpClient
) -> None:
    twilio.status = 503
    twilio.body = {"code": 20503, "message": "Service unavailable", "status": 503}
    message = reply(agent, conversation(Channel.SMS), text="Your table is booked.")

    outcome = deliver_outbound(message.pk)

    message.refresh_from_db()
    assert outcome.retry_at is not None
    assert message.delivery_status == DeliveryStatus.PENDING


def test_whatsapp_goes_through_meta_when_meta_is_configured(
    agent: Agent, twilio: RecordingHttpClient, meta: GraphStandIn
) -> None:
    message = reply(agent, conversation(Channel.WHATSAPP), text="Your table is booked.")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.external_id == WAMID
    assert (len(meta.requests), twilio.requests) == (1, [])


def test_whatsapp_goes_through_twilio_without_meta(
    agent: Agent, twilio: RecordingHttpClient
) -> None:
    message = reply(agent, conversation(Channel.WHATSAPP), text="Your table is booked.")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.external_id == TWILIO_SID
    assert twilio.requests[0]["data"]["To"] == f"whatsapp:{CUSTOMER_NUMBER}"


def test_whatsapp_without_any_provider_fails_saying_what_to_configure(
    agent: Agent, settings: Any
) -> None:
    settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN = ""
    settings.KIWIDESK_TWILIO_WHATSAPP_FROM = ""
    message = reply(agent, conversation(Channel.WHATSAPP), text="Your table is booked.")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert delivery_error(message).startswith("No WhatsApp provider is configured")


def test_a_whatsapp_reply_outside_the_window_is_refused_before_it_is_stored(
    agent: Agent,
) -> None:
    thread = conversation(Channel.WHATSAPP, wrote_hours_ago=25)

    with pytest.raises(OutsideMessagingWindowError, match="approved template"):
        reply(agent, thread, text="Are you still coming?")

    assert thread.messages.filter(direction="outbound").count() == 0


def test_a_window_that_closes_before_the_send_fails_the_message(
    agent: Agent, meta: GraphStandIn
) -> None:
    thread = conversation(Channel.WHATSAPP, wrote_hours_ago=23.99)
    message = reply(agent, thread, text="Are you still coming?")

    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert delivery_error(message) == WINDOW_REFUSAL
    assert meta.requests == []


def test_the_composer_shows_why_a_whatsapp_reply_outside_the_window_is_refused(
    client: Client, agent: Agent
) -> None:
    thread = conversation(Channel.WHATSAPP, wrote_hours_ago=25)
    client.force_login(agent)

    response = client.post(
        f"/cases/{thread.case_id}/threads/{thread.pk}/reply/", {"text": "Are you still coming?"}
    )

    assert response.status_code == 400
    assert WINDOW_REFUSAL.encode() in response.content
    assert b"Are you still coming?</textarea>" in response.content
    assert thread.messages.filter(direction="outbound").count() == 0


def test_a_new_whatsapp_thread_with_a_first_message_is_refused_and_not_opened(
    client: Client, agent: Agent
) -> None:
    thread = conversation(Channel.SMS)
    client.force_login(agent)

    response = client.post(
        f"/cases/{thread.case_id}/threads/",
        {
            "thread-name": "Harbour View",
            "thread-phone": "+447700900555",
            "thread-channel": "whatsapp",
            "thread-text": "Do you have a table for two?",
        },
    )

    assert response.status_code == 400
    assert WINDOW_REFUSAL.encode() in response.content
    assert Thread.objects.filter(case_id=thread.case_id, channel=Channel.WHATSAPP).count() == 0


def test_the_api_refuses_a_whatsapp_reply_outside_the_window_with_422(
    client: Client, agent: Agent
) -> None:
    thread = conversation(Channel.WHATSAPP, wrote_hours_ago=25)
    api = ApiClient(client, issue_token(agent).secret)

    response = api.post(f"/threads/{thread.pk}/messages", {"text": "Are you still coming?"})

    assert response.status_code == 422
    assert response.json() == {"detail": f"Not sent: {WINDOW_REFUSAL}"}
    assert thread.messages.filter(direction="outbound").count() == 0


def test_a_reply_inside_the_window_is_accepted_by_the_api(client: Client, agent: Agent) -> None:
    thread = conversation(Channel.WHATSAPP, wrote_hours_ago=23)
    api = ApiClient(client, issue_token(agent).secret)

    response = api.post(f"/threads/{thread.pk}/messages", {"text": "See you at 19:00."})

    assert response.status_code == 201
    assert response.json()["delivery_status"] == "pending"


def test_the_window_reopens_for_the_composer_when_the_customer_writes_again(
    agent: Agent,
) -> None:
    thread = conversation(Channel.WHATSAPP, wrote_hours_ago=25)
    receive_message(thread, text="Still there?")

    message = reply(agent, thread, text="Yes, see you at 19:00.")

    assert message.delivery_status == DeliveryStatus.PENDING


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.CHAT])
def test_the_channels_that_can_send_have_a_sender(channel: str) -> None:
    assert callable(outbox.sender_for(channel))


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.API, Channel.INTERNAL])
def test_the_channels_that_cannot_send_have_none(channel: str) -> None:
    with pytest.raises(outbox.NoSenderError, match=f"Nothing can send on the '{channel}' channel"):
        outbox.sender_for(channel)
