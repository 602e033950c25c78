from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.models import ChatSession
from kiwidesk.channels.webchat.tasks import send_transcript

CHAT_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@time_machine.travel(CHAT_AT, tick=False)
def test_a_visitor_who_leaves_gets_the_transcript_by_email(
    team, agent: Agent, mailoutbox: list, django_capture_on_commit_callbacks
):
    chat = services.start_session(team_slug=team.slug, origin="").session
    asked = services.post_message(chat, client_id="m1", text="How do I export my data?")
    answer = reply(agent, asked.message.thread, text="Settings, then Export.")
    deliver_outbound(answer.pk)
    verification.join_contact(chat, email="visitor@example.org", name="A Visitor")

    with django_capture_on_commit_callbacks(execute=True):
        services.end_session(chat)

    thread = asked.message.thread
    [mail] = mailoutbox
    assert mail.to == ["A Visitor <visitor@example.org>"]
    assert mail.subject == f"Your chat with Kiwidesk [#{thread.case_id}]"
    assert mail.reply_to == [f"support+{thread.reply_token}@kiwidesk.test"]
    assert mail.extra_headers["Auto-Submitted"] == "auto-generated"
    assert mail.body == (
        "Here is a copy of your chat of 23 November 2026.\n"
        "\n"
        "[09:30] You:\n"
        "How do I export my data?\n"
        "\n"
        "[09:30] Agent One:\n"
        "Settings, then Export.\n"
        "\n"
        "Reply to this email if there is anything more we can do."
    )


def test_the_transcript_is_mailed_once(chat: ChatSession, mailoutbox: list):
    services.post_message(chat, client_id="m1", text="Hello?")
    verification.join_contact(chat, email="visitor@example.org")
    services.end_session(chat)
    send_transcript.call(chat.pk)

    outcome = send_transcript.call(chat.pk)

    assert outcome == "already sent"
    assert len(mailoutbox) == 1


def test_a_transcript_the_server_cannot_take_is_tried_again_later(
    chat: ChatSession, settings, mailoutbox: list
):
    services.post_message(chat, client_id="m1", text="Hello?")
    verification.join_contact(chat, email="visitor@example.org")
    services.end_session(chat)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    outcome = send_transcript.call(chat.pk)

    chat.refresh_from_db()
    assert outcome.startswith("retrying: The mail server could not be reached")
    assert (chat.transcript_attempts, chat.transcript_sent_at) == (1, None)


def test_a_transcript_is_given_up_after_five_attempts(chat: ChatSession, settings):
    services.post_message(chat, client_id="m1", text="Hello?")
    verification.join_contact(chat, email="visitor@example.org")
    services.end_session(chat)
    ChatSession.objects.filter(pk=chat.pk).update(transcript_attempts=4)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    outcome = send_transcript.call(chat.pk)

    chat.refresh_from_db()
    assert outcome.startswith("failed: The mail server could not be reached")
    assert chat.transcript_attempts == 5
