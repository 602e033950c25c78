from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Case, Channel, Direction, Event, EventKind, Message, Party
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.models import ChatSession, EndReason
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import InvalidIdentityError, find_or_create_contact


def test_first_message_opens_a_case_with_a_customer_chat_thread(chat: ChatSession, team: Team):
    entry = services.post_message(chat, client_id="m1", text="How do I export my data?")

    message = entry.message
    assert (message.direction, message.body_text) == (Direction.INBOUND, "How do I export my data?")
    assert (message.thread.party, message.thread.channel) == (Party.CUSTOMER, Channel.CHAT)
    assert (message.case.channel, message.case.team, message.case.subject) == (
        Channel.CHAT,
        team,
        "How do I export my data?",
    )
    chat.refresh_from_db()
    assert chat.thread == message.thread
    assert chat.last_entry_id == entry.pk


def test_a_retried_post_stores_the_message_once(chat: ChatSession):
    first = services.post_message(chat, client_id="m1", text="Hello?")

    again = services.post_message(chat, client_id="m1", text="Hello?")

    assert again.pk == first.pk
    assert Message.objects.count() == 1


def test_every_message_of_a_chat_lands_on_its_thread(chat: ChatSession):
    first = services.post_message(chat, client_id="m1", text="Hello?")

    second = services.post_message(chat, client_id="m2", text="Anyone there?")

    assert second.message.thread_id == first.message.thread_id
    assert Case.objects.count() == 1


def test_an_anonymous_visitor_is_a_contact_with_no_real_address(chat: ChatSession):
    entry = services.post_message(chat, client_id="m1", text="Hello?")

    contact = entry.message.thread.contact
    assert contact.name == "Web chat visitor"
    assert list(contact.identities.values_list("kind", "value")) == [
        (IdentityKind.EMAIL, f"visitor-{chat.public_id}@chat.invalid")
    ]
    assert services.has_email_address(entry.message.thread) is False


def test_a_returning_customer_who_gives_their_email_gets_the_chat_on_their_contact(
    chat: ChatSession,
):
    known = find_or_create_contact(IdentityKind.EMAIL, "clinician@example.org", name="Dr Known")
    entry = services.post_message(chat, client_id="m1", text="The screen froze again")

    verification.join_contact(chat, email="Clinician@Example.org")

    thread = entry.message.thread
    thread.refresh_from_db()
    assert thread.contact == known
    assert Case.objects.get().customer == known
    assert Message.objects.get().author_contact == known
    assert chat.email == "clinician@example.org"


def test_messages_after_the_email_stay_on_the_chat_thread(chat: ChatSession):
    first = services.post_message(chat, client_id="m1", text="Hello?")
    verification.join_contact(chat, email="visitor@example.org", name="A Visitor")

    later = services.post_message(chat, client_id="m2", text="It is me again")

    assert later.message.thread_id == first.message.thread_id
    assert later.message.author_contact == Contact.objects.get(name="A Visitor")


def test_a_visitor_who_gives_their_email_first_continues_their_open_chat(team: Team):
    earlier = services.start_session(team_slug=team.slug, origin="").session
    verification.join_contact(earlier, email="visitor@example.org")
    opened = services.post_message(earlier, client_id="m1", text="First visit")
    services.end_session(earlier)
    returning = services.start_session(team_slug=team.slug, origin="").session
    verification.join_contact(returning, email="visitor@example.org")

    entry = services.post_message(returning, client_id="m1", text="Back again")

    assert entry.message.thread_id == opened.message.thread_id


def test_a_malformed_email_is_refused(chat: ChatSession):
    with pytest.raises(InvalidIdentityError):
        verification.join_contact(chat, email="not an address")

    chat.refresh_from_db()
    assert chat.email == ""


def test_a_widget_naming_an_unknown_team_is_refused(db: None):
    with pytest.raises(services.UnknownTeamError, match="There is no team 'nobody'"):
        services.start_session(team_slug="nobody", origin="")

    assert ChatSession.objects.count() == 0


def test_the_token_is_stored_only_as_its_hash(started: services.StartedChat):
    session = ChatSession.objects.get()

    assert session.token_hash == services.hash_token(started.token)
    assert started.token not in session.token_hash
    assert services.session_for_token(started.token) == session
    assert services.session_for_token("guessed") is None


def test_a_visitor_flooding_the_chat_is_stopped(chat: ChatSession):
    for number in range(services.RATE_LIMIT):
        services.post_message(chat, client_id=f"m{number}", text=f"spam {number}")

    with pytest.raises(services.ChatRateLimitedError):
        services.post_message(chat, client_id="one-more", text="spam")

    assert Message.objects.count() == services.RATE_LIMIT


def test_a_message_after_the_chat_ended_is_refused(chat: ChatSession):
    services.end_session(chat)
    chat.refresh_from_db()

    with pytest.raises(services.ChatEndedError):
        services.post_message(chat, client_id="m1", text="Hello?")

    assert Message.objects.count() == 0


def test_closing_the_chat_records_that_it_ended_on_the_case(chat: ChatSession):
    entry = services.post_message(chat, client_id="m1", text="Thanks, bye")

    assert services.end_session(chat) is True

    event = Event.objects.get(kind=EventKind.CHAT_ENDED)
    assert (event.case_id, event.thread_id) == (entry.message.case_id, entry.message.thread_id)
    assert event.payload == {"reason": EndReason.CLOSED, "transcript_to": "", "messages": 1}


def test_a_chat_ends_only_once(chat: ChatSession):
    services.post_message(chat, client_id="m1", text="Bye")
    services.end_session(chat)

    assert services.end_session(chat) is False

    assert Event.objects.filter(kind=EventKind.CHAT_ENDED).count() == 1


def test_a_chat_without_a_heartbeat_for_the_idle_time_ends(chat: ChatSession):
    services.post_message(chat, client_id="m1", text="Hello?")
    later = timezone.now() + timedelta(minutes=11)

    ended = services.end_idle_sessions(at=later)

    assert ended == [chat.pk]
    chat.refresh_from_db()
    assert (chat.end_reason, chat.ended_at) == (EndReason.IDLE, later)


def test_a_recent_heartbeat_keeps_the_chat_and_sets_the_next_check(chat: ChatSession):
    seen_at = timezone.now() + timedelta(minutes=5)
    services.mark_seen(chat, at=seen_at)

    check = services.end_if_idle(chat.pk, at=timezone.now() + timedelta(minutes=11))

    assert check == services.IdleCheck(ended=False, check_again_at=seen_at + timedelta(minutes=10))
    chat.refresh_from_db()
    assert chat.ended_at is None


def test_a_client_starting_chats_too_fast_is_stopped(team: Team):
    for _ in range(services.CHATS_PER_CLIENT):
        services.start_session(team_slug=team.slug, origin="", client_address="203.0.113.7")

    with pytest.raises(services.TooManyChatsError, match="please wait a minute"):
        services.start_session(team_slug=team.slug, origin="", client_address="203.0.113.7")

    assert ChatSession.objects.count() == services.CHATS_PER_CLIENT


def test_another_client_may_start_a_chat_while_one_is_stopped(team: Team):
    for _ in range(services.CHATS_PER_CLIENT):
        services.start_session(team_slug=team.slug, origin="", client_address="203.0.113.7")

    started = services.start_session(team_slug=team.slug, origin="", client_address="203.0.113.8")

    assert started.session.pk is not None


def test_a_client_may_start_chats_again_after_a_minute(team: Team):
    earlier = timezone.now() - timedelta(seconds=61)
    for _ in range(services.CHATS_PER_CLIENT):
        services.start_session(
            team_slug=team.slug, origin="", client_address="203.0.113.7", at=earlier
        )

    started = services.start_session(team_slug=team.slug, origin="", client_address="203.0.113.7")

    assert started.session.pk is not None


def test_the_client_address_is_kept_only_as_a_keyed_hash(team: Team):
    started = services.start_session(team_slug=team.slug, origin="", client_address="203.0.113.7")

    stored = ChatSession.objects.get(pk=started.session.pk).client_hash
    assert "203.0.113.7" not in stored
    assert stored == services.client_hash("203.0.113.7") != services.client_hash("203.0.113.8")


def test_a_new_customer_takes_over_the_chat_and_the_placeholder_contact_goes(chat: ChatSession):
    entry = services.post_message(chat, client_id="m1", text="Hello?")
    placeholder = entry.message.thread.contact

    verification.join_contact(chat, email="new@example.org", name="New Customer")

    assert list(Contact.objects.values_list("name", flat=True)) == ["New Customer"]
    assert Contact.objects.filter(pk=placeholder.pk).exists() is False
