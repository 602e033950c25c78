"""Outbound SMS and WhatsApp through Twilio's REST API, checked on the wire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import time_machine
from twilio.http.response import Response

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Channel
from kiwidesk.cases.services import reply
from kiwidesk.channels.common import (
    DeliveryError,
    MissingAddressError,
    OutsideMessagingWindowError,
)
from kiwidesk.channels.twilio import adapter
from kiwidesk.channels.twilio.client import twilio_client
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.channels.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_NUMBER,
    SUPPORT_NUMBER,
    RecordingHttpClient,
    outbound,
)
from tests.factories.cases import customer_thread, make_case

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CUSTOMER_WROTE_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_sms_reply_is_posted_to_twilios_messages_resource(agent: Agent) -> None:
    message = outbound(agent, text="Your booking is confirmed for 19:00.")
    http = RecordingHttpClient()

    sid = adapter.send(message, client=twilio_client(http))

    assert sid == "SM5ef8732a3c49700934481addd5ce1659"
    assert http.requests == [
        {
            "method": "POST",
            "uri": MESSAGES_URL,
            "data": {
                "To": CUSTOMER_NUMBER,
                "From": SUPPORT_NUMBER,
                "Body": "Your booking is confirmed for 19:00.",
            },
            "auth": (ACCOUNT_SID, AUTH_TOKEN),
        }
    ]


def test_with_a_public_url_twilio_is_asked_to_call_back_with_delivery_status(
    agent: Agent, settings: object
) -> None:
    settings.KIWIDESK_PUBLIC_URL = "https://help.example.org/"  # type: ignore[attr-defined]
    http = RecordingHttpClient()

    adapter.send(outbound(agent), client=twilio_client(http))

    assert http.requests[0]["data"]["StatusCallback"] == (
        "https://help.example.org/channels/twilio/status/"
    )


def test_a_whatsapp_reply_within_the_window_uses_whatsapp_addresses(agent: Agent) -> None:
    with time_machine.travel(CUSTOMER_WROTE_AT, tick=False):
        message = outbound(agent, channel=Channel.WHATSAPP)
    http = RecordingHttpClient()

    with time_machine.travel(datetime(2026, 3, 3, 8, 59, tzinfo=UTC), tick=False):
        adapter.send(message, client=twilio_client(http))

    assert http.requests[0]["data"]["To"] == f"whatsapp:{CUSTOMER_NUMBER}"
    assert http.requests[0]["data"]["From"] == f"whatsapp:{SUPPORT_NUMBER}"


def test_a_whatsapp_reply_after_the_window_is_refused_before_anything_is_sent(
    agent: Agent,
) -> None:
    with time_machine.travel(CUSTOMER_WROTE_AT, tick=False):
        message = outbound(agent, channel=Channel.WHATSAPP)
    http = RecordingHttpClient()

    with (
        time_machine.travel(datetime(2026, 3, 3, 9, 1, tzinfo=UTC), tick=False),
        pytest.raises(OutsideMessagingWindowError, match="approved template"),
    ):
        adapter.send(message, client=twilio_client(http))

    assert http.requests == []


def test_a_refusal_by_twilio_is_a_permanent_delivery_error(agent: Agent) -> None:
    refusal = {
        "code": 21211,
        "message": "The 'To' number +447700900123 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    http = RecordingHttpClient(status=400, body=refusal)

    with pytest.raises(DeliveryError, match="21211") as raised:
        adapter.send(outbound(agent), client=twilio_client(http))

    assert raised.value.is_permanent is True


def test_twilio_failing_is_a_transient_delivery_error(agent: Agent) -> None:
    http = RecordingHttpClient(status=503, body={"code": 20500, "message": "Internal error"})

    with pytest.raises(DeliveryError) as raised:
        adapter.send(outbound(agent), client=twilio_client(http))

    assert raised.value.is_permanent is False


def test_a_contact_without_a_number_cannot_be_texted(agent: Agent) -> None:
    customer = find_or_create_contact(IdentityKind.EMAIL, "customer@example.org")
    case = make_case(customer=customer, channel=Channel.SMS)
    message = reply(agent, customer_thread(case), text="Hello")
    http = RecordingHttpClient()

    with pytest.raises(MissingAddressError):
        adapter.send(message, client=twilio_client(http))

    assert http.requests == []


def test_without_a_sending_number_an_sms_is_a_permanent_delivery_error(
    agent: Agent, settings: object
) -> None:
    settings.KIWIDESK_TWILIO_SMS_FROM = ""  # type: ignore[attr-defined]

    with pytest.raises(DeliveryError, match="KIWIDESK_TWILIO_SMS_FROM") as raised:
        adapter.send(outbound(agent), client=twilio_client(RecordingHttpClient()))

    assert raised.value.is_permanent is True


class _Unreachable(RecordingHttpClient):
    def request(self, method: str, uri: str, **kwargs: object) -> Response:  # type: ignore[override]
        raise requests.ConnectionError("connection refused")


def test_twilio_unreachable_is_a_transient_delivery_error(agent: Agent) -> None:
    with pytest.raises(DeliveryError, match="could not be reached") as raised:
        adapter.send(outbound(agent), client=twilio_client(_Unreachable()))

    assert raised.value.is_permanent is False


def test_without_account_credentials_sending_is_a_permanent_delivery_error(
    agent: Agent, settings: object
) -> None:
    settings.KIWIDESK_TWILIO_AUTH_TOKEN = ""  # type: ignore[attr-defined]

    with pytest.raises(DeliveryError, match="KIWIDESK_TWILIO_AUTH_TOKEN") as raised:
        adapter.send(outbound(agent))

    assert raised.value.is_permanent is True
