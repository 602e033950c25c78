"""A visitor whose stream drops and reconnects, at any moment, sees every message once."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.webchat import services, stream
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession


class ScriptedClock(stream.Clock):
    """Time that passes only in naps; each nap lets the next scripted action happen."""

    def __init__(self, actions: Iterator[Callable[[], object]]) -> None:
        self.seconds = 0.0
        self.actions = actions

        def sleep(seconds: float) -> None:
            self.seconds += seconds
            self.act()

        super().__init__(now=lambda: self.seconds, sleep=sleep)

    def act(self) -> None:
        next(self.actions, lambda: None)()


def received_ids(lines: Iterator[str], keep: int) -> list[int]:
    """The ids of the first `keep` message events a client reads before it drops."""
    ids = []
    for line in lines:
        if line.startswith("id: "):
            ids.append(json.loads(line.split("data: ")[1])["id"])
        if len(ids) == keep:
            break
    return ids


def action(kind: str, chat: ChatSession, agent: Agent, number: int) -> Callable[[], object]:
    def visitor_writes() -> object:
        return services.post_message(chat, client_id=f"m{number}", text=f"visitor {number}")

    def agent_replies() -> object:
        answer = reply(agent, chat.thread, text=f"agent {number}")
        return deliver_outbound(answer.pk)

    return {"visitor": visitor_writes, "agent": agent_replies}[kind]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from(["visitor", "agent"]), min_size=1, max_size=8),
    drops=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6),
    stream_seconds=st.integers(min_value=0, max_value=3),
)
def test_every_message_arrives_once_and_in_order_across_reconnects(
    team: Team, agent: Agent, kinds: list[str], drops: list[int], stream_seconds: int
):
    chat = services.start_session(team_slug=team.slug, origin="").session
    services.post_message(chat, client_id="first", text="Hello?")
    chat.refresh_from_db()
    actions = iter([action(kind, chat, agent, n) for n, kind in enumerate(kinds)])
    clock = ScriptedClock(actions)
    seen: list[int] = []

    for drop_after in itertools.chain(drops, itertools.repeat(-1, len(kinds) + 2)):
        after = seen[-1] if seen else 0
        events = stream.chat_events(
            chat.pk, after=after, seconds=stream_seconds, retry_ms=500, clock=clock
        )
        lines = (chunk.replace("\n", " ") for chunk in events)
        seen += received_ids(lines, keep=drop_after)
        events.close()
        clock.act()  # something may happen while the browser waits to reconnect

    assert seen == list(
        ChatEntry.objects.filter(session=chat).order_by("pk").values_list("pk", flat=True)
    )
    assert len(seen) == len(kinds) + 1
