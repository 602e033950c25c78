"""Outbound WhatsApp through the Graph API, and the 24-hour customer-service window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Channel, Message
from kiwidesk.cases.services import open_thread, receive_message, reply
from kiwidesk.channels.common import (
    DeliveryError,
    OutsideMessagingWindowError,
    messaging_window_closes_at,
)
from kiwidesk.channels.whatsapp import adapter
from kiwidesk.channels.whatsapp.client import GraphClient
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.channels.twilio.conftest import outbound
from tests.channels.whatsapp.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, GraphStandIn
from tests.factories.cases import make_case

pytestmark = pytest.mark.django_db

CUSTOMER_WROTE_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LAST_MINUTE_OF_WINDOW = datetime(2026, 3, 3, 8, 59, tzinfo=UTC)
WINDOW_CLOSED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TEMPLATE = adapter.Template(
    name="booking_follow_up",
    language="en_GB",
    components=({"type": "body", "parameters": [{"type": "text", "text": "19:00"}]},),
)


@pytest.fixture
def answer(agent: Agent) -> Message:
    """An agent's reply to a customer who last wrote at CUSTOMER_WROTE_AT."""
    return outbound(
        agent,
        channel=Channel.WHATSAPP,
        text="Your table is booked for 19:00.",
        inbound_at=CUSTOMER_WROTE_AT,
        reply_at=CUSTOMER_WROTE_AT,
    )


def client_for(graph: GraphStandIn) -> GraphClient:
    return GraphClient(
        base_url=graph.url, access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID
    )


def test_a_text_within_the_window_is_posted_to_the_phone_numbers_messages(
    answer: Message, graph: GraphStandIn
) -> None:
    with time_machine.travel(LAST_MINUTE_OF_WINDOW, tick=False):
        wamid = adapter.send(answer, client=client_for(graph))

    assert wamid == "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOEQ2"
    assert graph.requests == [
        {
            "path": f"/v23.0/{PHONE_NUMBER_ID}/messages",
            "authorization": f"Bearer {ACCESS_TOKEN}",
            "content_type": "application/json",
            "json": {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "+447700900123",
                "type": "text",
                "text": {"preview_url": False, "body": "Your table is booked for 19:00."},
            },
        }
    ]


def test_a_text_after_the_window_closed_is_refused_and_says_only_a_template_can_go(
    answer: Message, graph: GraphStandIn
) -> None:
    with (
        time_machine.travel(WINDOW_CLOSED, tick=False),
        pytest.raises(OutsideMessagingWindowError, match="only an approved template"),
    ):
        adapter.send(answer, client=client_for(graph))

    assert graph.requests == []


def test_a_template_after_the_window_closed_is_sent(answer: Message, graph: GraphStandIn) -> None:
    with time_machine.travel(WINDOW_CLOSED, tick=False):
        adapter.send(answer, template=TEMPLATE, client=client_for(graph))

    assert graph.requests[0]["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+447700900123",
        "type": "template",
        "template": {
            "name": "booking_follow_up",
            "language": {"code": "en_GB"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "19:00"}]}],
        },
    }


def test_the_window_reopens_when_the_customer_writes_again(
    answer: Message, graph: GraphStandIn
) -> None:
    receive_message(answer.thread, text="Still there?", at=WINDOW_CLOSED)

    with time_machine.travel(datetime(2026, 3, 3, 12, 0, tzinfo=UTC), tick=False):
        adapter.send(answer, client=client_for(graph))

    assert len(graph.requests) == 1
    assert messaging_window_closes_at(answer.thread) == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_a_whatsapp_thread_the_contact_never_wrote_on_takes_only_templates(
    agent: Agent, graph: GraphStandIn
) -> None:
    case = make_case(channel=Channel.EMAIL)
    vendor = find_or_create_contact(IdentityKind.WHATSAPP, "+447700900555", name="Harbour View")
    thread = open_thread(agent, case, contact=vendor, channel=Channel.WHATSAPP)

    # The outbox refuses it before it is stored (cases.outbox.ensure_sendable).
    with pytest.raises(OutsideMessagingWindowError):
        reply(agent, thread, text="Do you have a table for two at 19:00?")

    assert messaging_window_closes_at(thread) is None
    assert graph.requests == []


def test_a_graph_refusal_is_a_permanent_delivery_error_with_metas_reason(
    answer: Message, graph: GraphStandIn
) -> None:
    graph.status = 400
    graph.answer = {
        "error": {
            "message": "(#131026) Message undeliverable",
            "type": "OAuthException",
            "code": 131026,
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }

    with (
        time_machine.travel(LAST_MINUTE_OF_WINDOW, tick=False),
        pytest.raises(DeliveryError, match="131026") as raised,
    ):
        adapter.send(answer, client=client_for(graph))

    assert raised.value.is_permanent is True


def test_a_graph_rate_limit_is_a_transient_delivery_error(
    answer: Message, graph: GraphStandIn
) -> None:
    graph.status = 400
    graph.answer = {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}

    with (
        time_machine.travel(LAST_MINUTE_OF_WINDOW, tick=False),
        pytest.raises(DeliveryError) as raised,
    ):
        adapter.send(answer, client=client_for(graph))

    assert raised.value.is_permanent is False


def test_an_unreachable_graph_api_is_a_transient_delivery_error(answer: Message) -> None:
    closed_port = GraphClient(
        base_url="http://127.0.0.1:9/v23.0", access_token=ACCESS_TOKEN, phone_number_id="1"
    )

    with (
        time_machine.travel(LAST_MINUTE_OF_WINDOW, tick=False),
        pytest.raises(DeliveryError) as raised,
    ):
        adapter.send(answer, client=closed_port)

    assert raised.value.is_permanent is False


def test_without_an_access_token_sending_is_a_permanent_delivery_error(
    answer: Message, settings: object
) -> None:
    settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN = ""  # type: ignore[attr-defined]

    with (
        time_machine.travel(LAST_MINUTE_OF_WINDOW, tick=False),
        pytest.raises(DeliveryError, match="KIWIDESK_WHATSAPP_ACCESS_TOKEN") as raised,
    ):
        adapter.send(answer)

    assert raised.value.is_permanent is True


def test_a_template_without_parameters_is_sent_by_name_and_language(
    answer: Message, graph: GraphStandIn
) -> None:
    adapter.send(answer, template=adapter.Template(name="hello_world"), client=client_for(graph))

    assert graph.requests[0]["json"]["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }


def test_the_configured_client_posts_to_the_configured_graph_url(
    answer: Message, graph: GraphStandIn, settings: object
) -> None:
    settings.KIWIDESK_WHATSAPP_GRAPH_URL = graph.url  # type: ignore[attr-defined]

    adapter.send(answer, template=adapter.Template(name="hello_world"))

    assert graph.requests[0]["path"] == f"/v23.0/{PHONE_NUMBER_ID}/messages"


def test_a_graph_error_that_is_not_json_is_a_transient_delivery_error(
    answer: Message, graph: GraphStandIn
) -> None:
    graph.status = 502
    graph.answer = ["Bad gateway"]  # type: ignore[assignment]

    with pytest.raises(DeliveryError, match="502") as raised:
        adapter.send(
            answer, template=adapter.Template(name="hello_world"), client=client_for(graph)
        )

    assert raised.value.is_permanent is False
