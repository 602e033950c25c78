from __future__ import annotations

import json
from collections.abc import Callable

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import DeliveryStatus
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.webchat import services, stream
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession


class FakeClock(stream.Clock):
    """A clock whose sleep advances time at once; `news[n]` happens during the n-th nap."""

    def __init__(self, news: dict[int, Callable[[], object]] | None = None) -> None:
        self.seconds = 0.0
        self.naps = 0
        during = news or {}

        def sleep(seconds: float) -> None:
            self.seconds += seconds
            self.naps += 1
            during.get(self.naps, lambda: None)()

        super().__init__(now=lambda: self.seconds, sleep=sleep)


def events_of(text: str) -> list[dict[str, object]]:
    return [
        json.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: {") and line != "data: {}"
    ]


def run(session: ChatSession, *, after: int = 0, seconds: float = 0, clock=None) -> str:
    return "".join(
        stream.chat_events(
            session.pk, after=after, seconds=seconds, retry_ms=500, clock=clock or FakeClock()
        )
    )


def test_a_reconnect_gets_only_what_came_after_its_last_event_id(chat: ChatSession):
    first = services.post_message(chat, client_id="m1", text="one")
    second = services.post_message(chat, client_id="m2", text="two")
    third = services.post_message(chat, client_id="m3", text="three")

    text = run(chat, after=first.pk)

    assert [(e["id"], e["text"]) for e in events_of(text)] == [
        (second.pk, "two"),
        (third.pk, "three"),
    ]
    assert text.startswith("retry: 500\n\n")
    assert f"id: {third.pk}\n" in text


def test_a_first_connection_gets_the_whole_chat(chat: ChatSession):
    services.post_message(chat, client_id="m1", text="one")
    services.post_message(chat, client_id="m2", text="two")

    text = run(chat)

    assert [e["text"] for e in events_of(text)] == ["one", "two"]


def test_a_waiting_stream_shows_the_agents_reply_as_it_is_sent(chat: ChatSession, agent: Agent):
    asked = services.post_message(chat, client_id="m1", text="Hello?")

    def agent_answers() -> None:
        deliver_outbound(reply(agent, asked.message.thread, text="Hi, how can I help?").pk)

    text = run(chat, after=asked.pk, seconds=10, clock=FakeClock({3: agent_answers}))

    [shown] = events_of(text)
    assert (shown["from"], shown["author"], shown["text"]) == (
        "agent",
        "Agent One",
        "Hi, how can I help?",
    )


def test_a_stream_ends_after_its_time_so_no_thread_is_pinned(chat: ChatSession):
    clock = FakeClock()

    run(chat, seconds=stream.STREAM_SECONDS, clock=clock)

    assert clock.seconds == stream.STREAM_SECONDS
    assert clock.naps == 25


def test_a_long_quiet_stream_sends_a_heartbeat_comment(chat: ChatSession):
    text = run(chat, seconds=stream.STREAM_SECONDS)

    assert text.count(": beat\n\n") == 2


def test_an_agent_reply_written_to_the_stream_is_marked_delivered(chat: ChatSession, agent: Agent):
    asked = services.post_message(chat, client_id="m1", text="Hello?")
    answer = reply(agent, asked.message.thread, text="Hi!")
    deliver_outbound(answer.pk)

    run(chat, after=asked.pk)

    answer.refresh_from_db()
    assert answer.delivery_status == DeliveryStatus.DELIVERED


def test_the_stream_says_when_the_chat_has_ended(chat: ChatSession):
    services.post_message(chat, client_id="m1", text="Bye")
    services.end_session(chat)

    text = run(chat, seconds=stream.STREAM_SECONDS)

    assert text.endswith("event: ended\ndata: {}\n\n")


def test_streams_beyond_the_limit_answer_at_once_and_poll_later(chat: ChatSession, settings):
    settings.KIWIDESK_CHAT_MAX_STREAMS = 1
    services.post_message(chat, client_id="m1", text="Hello?")
    waiting = stream.stream(chat.pk, after=0, clock=FakeClock())
    next(waiting)

    busy = "".join(stream.stream(chat.pk, after=0, clock=FakeClock()))

    waiting.close()
    assert busy.startswith(f"retry: {stream.BUSY_RETRY_MS}\n\n")
    assert [e["text"] for e in events_of(busy)] == ["Hello?"]
    assert stream.SLOTS.open == 0


def test_entries_of_one_chat_are_numbered_in_the_order_they_were_published(
    chat: ChatSession, agent: Agent
):
    asked = services.post_message(chat, client_id="m1", text="Hello?")
    answer = reply(agent, asked.message.thread, text="Hi")
    services.post_message(chat, client_id="m2", text="Are you there?")

    deliver_outbound(answer.pk)

    assert list(ChatEntry.objects.values_list("message__body_text", flat=True)) == [
        "Hello?",
        "Are you there?",
        "Hi",
    ]


def test_a_quiet_stream_costs_one_primary_key_read_a_second(
    chat: ChatSession, django_assert_num_queries
):
    services.post_message(chat, client_id="m1", text="Hello?")
    chat.refresh_from_db()

    with django_assert_num_queries(4):
        run(chat, after=chat.last_entry_id, seconds=3)
