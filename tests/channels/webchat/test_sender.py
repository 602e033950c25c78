from __future__ import annotations

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import DeliveryStatus, Event, EventKind
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.adapter import LEFT_WITHOUT_EMAIL
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession


def test_a_reply_during_the_chat_goes_to_the_visitors_stream(chat: ChatSession, agent: Agent):
    asked = services.post_message(chat, client_id="m1", text="Can you help?")
    answer = reply(agent, asked.message.thread, text="Of course, one moment.")

    outcome = deliver_outbound(answer.pk)

    entry = ChatEntry.objects.get(message=answer)
    answer.refresh_from_db()
    chat.refresh_from_db()
    assert outcome.status == DeliveryStatus.SENT
    assert answer.external_id == f"chat:{chat.public_id}:{entry.pk}"
    assert chat.last_entry_id == entry.pk > asked.pk


def test_a_reply_after_the_visitor_left_goes_to_the_email_they_gave(
    chat: ChatSession, agent: Agent, mailoutbox: list
):
    asked = services.post_message(chat, client_id="m1", text="Can you help?")
    verification.join_contact(chat, email="visitor@example.org")
    services.end_session(chat)
    answer = reply(agent, asked.message.thread, text="Here is the answer you waited for.")

    outcome = deliver_outbound(answer.pk)

    assert outcome.status == DeliveryStatus.SENT
    assert [mail.to for mail in mailoutbox] == [['"visitor@example.org" <visitor@example.org>']]
    assert mailoutbox[0].body == "Here is the answer you waited for."
    assert ChatEntry.objects.filter(message=answer).exists() is False


def test_a_reply_after_an_anonymous_visitor_left_fails_and_says_why(
    chat: ChatSession, agent: Agent, mailoutbox: list
):
    asked = services.post_message(chat, client_id="m1", text="Can you help?")
    services.end_session(chat)
    answer = reply(agent, asked.message.thread, text="Sorry for the wait.")

    outcome = deliver_outbound(answer.pk)

    answer.refresh_from_db()
    event = Event.objects.get(kind=EventKind.DELIVERY_UPDATED, message=answer)
    assert (outcome.status, answer.delivery_status) == (DeliveryStatus.FAILED,) * 2
    assert (
        event.payload["error"]
        == LEFT_WITHOUT_EMAIL
        == ("The visitor has left and gave no email address.")
    )
    assert mailoutbox == []
