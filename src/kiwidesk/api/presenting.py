"""Mark which messages' content the caller may see, for MessageOut."""

from __future__ import annotations

from collections.abc import Iterable

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case, Message
from kiwidesk.privacy.access import mark_content_shown


def present(agent: Agent, case: Case, messages: Iterable[Message]) -> list[Message]:
    """The messages, each marked shown or withheld by the agent's scope on `case`."""
    shown = list(messages)
    mark_content_shown(agent, case, shown)
    return shown


def present_one(agent: Agent, case: Case, message: Message) -> Message:
    return present(agent, case, [message])[0]
