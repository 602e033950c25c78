from __future__ import annotations

from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.channels.webchat import services
from kiwidesk.channels.webchat.models import ChatSession


def test_the_case_page_shows_the_chat_thread_and_that_the_chat_ended(
    client: Client, agent: Agent, chat: ChatSession
):
    entry = services.post_message(chat, client_id="m1", text="Is anyone there?")
    services.end_session(chat)
    client.force_login(agent)

    response = client.get(f"/cases/{entry.message.case_id}/")

    assert response.status_code == 200
    assert "Is anyone there?" in response.text
    assert "Web chat" in response.text
    assert "Chat ended: the visitor ended the chat; no address for a transcript" in response.text
