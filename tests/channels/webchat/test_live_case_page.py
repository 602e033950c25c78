"""The agent's case page while a chat runs: the visitor's claim, and their messages live."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case, Sensitivity
from kiwidesk.cases.services import reply
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession
from kiwidesk.privacy.access import Purpose
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.channels.webchat.conftest import mailed_code
from tests.factories.cases import make_case

POLL = re.compile(r'hx-get="(?P<url>/cases/\d+/chats/\d+/live/\?[^"]+)" hx-trigger="every 2s"')


def poll_url(html: str) -> str:
    match = POLL.search(html)
    assert match is not None, "the page does not poll the chat"
    return unescape(match["url"])


@pytest.fixture
def first(chat: ChatSession) -> ChatEntry:
    return services.post_message(chat, client_id="m1", text="Is anyone there?")


def test_the_case_page_says_who_an_unverified_visitor_claims_to_be(
    client: Client, agent: Agent, chat: ChatSession, first: ChatEntry, mailoutbox: list
):
    verification.request_email_code(chat, email="clinician@example.org")
    client.force_login(agent)

    response = client.get(f"/cases/{first.message.case_id}/")

    assert "Says they are clinician@example.org <strong>(not verified)</strong>" in response.text


def test_a_poll_replaces_not_verified_once_the_visitor_confirmed(
    client: Client, agent: Agent, chat: ChatSession, first: ChatEntry, mailoutbox: list
):
    verification.request_email_code(chat, email="clinician@example.org")
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)
    verification.confirm_email_code(chat, code=mailed_code(mailoutbox[0]))

    response = client.get(url)

    assert (
        f'<p id="chat-claim-{chat.pk}" class="chat-claim" hx-swap-oob="true">'
        "Confirmed clinician@example.org with an emailed code"
    ) in response.text
    assert poll_url(response.text).endswith("&confirmed=1")


def test_the_case_page_polls_for_messages_after_the_newest_one_it_shows(
    client: Client, agent: Agent, first: ChatEntry
):
    client.force_login(agent)

    response = client.get(f"/cases/{first.message.case_id}/")

    assert poll_url(response.text).endswith(f"?after={first.pk}&confirmed=0")


def test_a_poll_brings_the_visitors_new_message_into_the_timeline(
    client: Client, agent: Agent, chat: ChatSession, first: ChatEntry
):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)
    later = services.post_message(chat, client_id="m2", text="Hello <b>again</b>")

    response = client.get(url)

    assert response.status_code == 200
    assert '<ol hx-swap-oob="beforeend:#timeline .events">' in response.text
    assert f'id="message-{later.message.pk}"' in response.text
    assert "Hello &lt;b&gt;again&lt;/b&gt;" in response.text
    assert "Is anyone there?" not in response.text
    assert poll_url(response.text).endswith(f"?after={later.pk}&confirmed=0")


def test_a_poll_with_nothing_new_adds_nothing_and_keeps_polling(
    client: Client, agent: Agent, first: ChatEntry
):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)

    response = client.get(url)

    assert "hx-swap-oob" not in response.text
    assert poll_url(response.text) == url


def test_a_poll_costs_one_read_of_the_chat(client: Client, agent: Agent, first: ChatEntry):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)

    with CaptureQueriesContext(connection) as queries:
        client.get(url)

    chat_reads = [q["sql"] for q in queries.captured_queries if "channels_webchat" in q["sql"]]
    assert len(chat_reads) == 1


def test_the_poll_stops_once_the_chat_has_ended(
    client: Client, agent: Agent, chat: ChatSession, first: ChatEntry
):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)
    services.end_session(chat)

    response = client.get(url)

    assert "hx-trigger" not in response.text
    assert "The chat has ended." in response.text


def test_the_agent_reply_is_not_added_twice_by_the_poll(
    client: Client, agent: Agent, chat: ChatSession, first: ChatEntry
):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)
    answer = reply(agent, first.message.thread, text="One moment please.")
    services.publish(chat, answer)

    response = client.get(url)

    assert "One moment please." not in response.text
    assert poll_url(response.text).endswith(f"?after={answer.chat_entry.pk}&confirmed=0")


def test_the_poll_goes_through_the_access_gate(client: Client, agent: Agent, first: ChatEntry):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)
    opened = AuditRecord.objects.count()

    client.get(url)

    record = AuditRecord.objects.filter(sequence__gt=opened).get()
    assert (record.actor, record.action, record.object_id, record.outcome) == (
        agent,
        Purpose.VIEW,
        str(first.message.case_id),
        AuditOutcome.GRANTED,
    )


def test_an_agent_without_clearance_cannot_poll_a_clinical_chat(
    client: Client, agent: Agent, outsider: Agent, first: ChatEntry
):
    client.force_login(agent)
    url = poll_url(client.get(f"/cases/{first.message.case_id}/").text)
    Case.objects.filter(pk=first.message.case_id).update(sensitivity=Sensitivity.CLINICAL)
    client.force_login(outsider)

    response = client.get(url)

    assert response.status_code == 403  # the break-glass page, not the chat
    assert first.message.body_text not in response.text
    assert AuditRecord.objects.filter(actor=outsider).get().outcome == AuditOutcome.DENIED


def test_a_visitor_without_a_login_cannot_poll(client: Client, first: ChatEntry):
    response = client.get(f"/cases/{first.message.case_id}/chats/{first.session_id}/live/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_chat_polled_through_another_case_is_not_found(
    client: Client, agent: Agent, first: ChatEntry
):
    other = make_case(agent, subject="Another case")
    client.force_login(agent)

    response = client.get(f"/cases/{other.pk}/chats/{first.session_id}/live/?after=0")

    assert response.status_code == 404


def test_a_poll_with_a_malformed_cursor_is_refused(client: Client, agent: Agent, first: ChatEntry):
    client.force_login(agent)

    response = client.get(f"/cases/{first.message.case_id}/chats/{first.session_id}/live/?after=x")

    assert response.status_code == 400
