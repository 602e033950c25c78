"""Approved templates: what an agent can still send once the 24-hour window has closed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import issue_token
from kiwidesk.cases.models import Channel, DeliveryStatus, Message, Thread
from kiwidesk.cases.services import deliver_outbound
from kiwidesk.channels.whatsapp.models import MessageTemplate
from kiwidesk.channels.whatsapp.templates import TemplateRefusedError, render, send_template
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.api.conftest import ApiClient
from tests.channels.twilio.conftest import CUSTOMER_NUMBER
from tests.channels.whatsapp.conftest import GraphStandIn
from tests.factories.cases import customer_thread, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up() -> MessageTemplate:
    return MessageTemplate.objects.create(
        name="booking_follow_up",
        language="en_GB",
        body="Hello {{1}}, your table is held until {{2}}. Reply to keep it.",
    )


@pytest.fixture
def meta(settings: Any, graph: GraphStandIn) -> GraphStandIn:
    settings.KIWIDESK_WHATSAPP_GRAPH_URL = graph.url
    return graph


def whatsapp_thread(*, wrote_hours_ago: float) -> Thread:
    customer = find_or_create_contact(IdentityKind.WHATSAPP, CUSTOMER_NUMBER, name="Ana")
    wrote_at = timezone.now() - timedelta(hours=wrote_hours_ago)
    return customer_thread(make_case(customer=customer, channel=Channel.WHATSAPP, at=wrote_at))


def test_a_template_reads_with_its_parameters_filled_in(follow_up: MessageTemplate) -> None:
    text = render(follow_up, ["Ana", "19:30"])

    assert text == "Hello Ana, your table is held until 19:30. Reply to keep it."


def test_a_template_with_too_few_parameters_is_refused_saying_how_many(
    follow_up: MessageTemplate,
) -> None:
    with pytest.raises(TemplateRefusedError, match=r"takes 2 parameter\(s\); 1 given"):
        render(follow_up, ["Ana"])


def test_a_template_goes_out_after_the_window_closed_as_the_template_meta_approved(
    agent: Agent, follow_up: MessageTemplate, meta: GraphStandIn
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)

    message = send_template(agent, thread, follow_up, ["Ana", "19:30"])
    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.body_text == "Hello Ana, your table is held until 19:30. Reply to keep it."
    assert message.delivery_status == DeliveryStatus.SENT
    assert meta.requests[0]["json"]["template"] == {
        "name": "booking_follow_up",
        "language": {"code": "en_GB"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "19:30"}],
            }
        ],
    }


def test_a_template_is_refused_on_a_thread_that_is_not_whatsapp(
    agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = customer_thread(make_case(channel=Channel.SMS))

    with pytest.raises(TemplateRefusedError, match="WhatsApp threads only"):
        send_template(agent, thread, follow_up, ["Ana", "19:30"])

    assert Message.objects.filter(thread=thread, direction="outbound").count() == 0


def test_the_composer_offers_templates_and_says_why_once_the_window_closed(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)
    client.force_login(agent)

    html = client.get(f"/cases/{thread.case_id}/").content.decode()

    assert "so WhatsApp allows only an approved template until they write again." in html
    assert (
        f'<option value="{follow_up.pk}">booking_follow_up (en_GB): Hello {{{{1}}}}, your table '
        "is held until {{2}}. Reply to keep it.</option>"
    ) in html
    assert f'action="/cases/{thread.case_id}/threads/{thread.pk}/reply/"' not in html


def test_the_composer_offers_free_text_while_the_window_is_open(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=2)
    client.force_login(agent)

    html = client.get(f"/cases/{thread.case_id}/").content.decode()

    assert f'action="/cases/{thread.case_id}/threads/{thread.pk}/reply/"' in html
    assert "WhatsApp allows free text until" in html
    assert "Send template" not in html


def test_an_agent_sends_a_template_from_the_composer(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)
    client.force_login(agent)

    response = client.post(
        f"/cases/{thread.case_id}/threads/{thread.pk}/whatsapp-template/",
        {"template-template": follow_up.pk, "template-parameters": "Ana\n19:30\n"},
    )

    assert response.status_code == 302
    message = Message.objects.get(thread=thread, direction="outbound")
    assert message.body_text == "Hello Ana, your table is held until 19:30. Reply to keep it."
    assert message.delivery_status == DeliveryStatus.PENDING


def test_a_template_missing_a_parameter_is_refused_on_the_form_and_kept(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)
    client.force_login(agent)

    response = client.post(
        f"/cases/{thread.case_id}/threads/{thread.pk}/whatsapp-template/",
        {"template-template": follow_up.pk, "template-parameters": "Ana"},
    )

    assert response.status_code == 400
    assert b"takes 2 parameter(s); 1 given" in response.content
    assert b"Ana</textarea>" in response.content
    assert Message.objects.filter(thread=thread, direction="outbound").count() == 0


def test_the_api_lists_the_templates_in_use(client: Client, agent: Agent) -> None:
    template = MessageTemplate.objects.create(name="hello", body="Hello {{1}}")
    MessageTemplate.objects.create(name="retired", body="Old", is_active=False)
    api = ApiClient(client, issue_token(agent).secret)

    response = api.get("/whatsapp/templates")

    assert response.json() == [
        {
            "id": template.pk,
            "name": "hello",
            "language": "en_US",
            "body": "Hello {{1}}",
            "parameter_count": 1,
        }
    ]


def test_the_api_writes_a_template_outside_the_window(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)
    api = ApiClient(client, issue_token(agent).secret)

    response = api.post(
        f"/threads/{thread.pk}/whatsapp-template",
        {"template_id": follow_up.pk, "parameters": ["Ana", "19:30"]},
    )

    assert response.status_code == 201
    assert response.json()["text"] == (
        "Hello Ana, your table is held until 19:30. Reply to keep it."
    )


def test_the_api_refuses_a_template_not_in_use_with_a_422(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)
    api = ApiClient(client, issue_token(agent).secret)

    response = api.post(f"/threads/{thread.pk}/whatsapp-template", {"template_id": 999})

    assert (response.status_code, response.json()) == (
        422,
        {"detail": "There is no template 999 in use."},
    )


def test_the_api_refuses_a_template_missing_a_parameter_with_a_422(
    client: Client, agent: Agent, follow_up: MessageTemplate
) -> None:
    thread = whatsapp_thread(wrote_hours_ago=30)
    api = ApiClient(client, issue_token(agent).secret)

    response = api.post(
        f"/threads/{thread.pk}/whatsapp-template",
        {"template_id": follow_up.pk, "parameters": ["Ana"]},
    )

    assert (response.status_code, response.json()) == (
        422,
        {"detail": "Not sent: The template booking_follow_up takes 2 parameter(s); 1 given."},
    )
