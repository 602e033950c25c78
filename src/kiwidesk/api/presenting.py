"""Mark which messages' content the caller may see, for MessageOut."""

from __future__ import annotations

from collections.abc import Iterable

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case, Message
from kiwidesk.privacy.access import content_scope


def present(agent: Agent, case: Case, messages: Iterable[Message]) -> list[Message]:
    """The messages, each marked shown or withheld by the agent's scope on `case`."""
    scope = content_scope(agent, case)
    shown = list(messages)
    for message in shown:
        message.content_shown = scope.shows(message.sensitivity)  # type: ignore[attr-defined]
    return shown


def present_one(agent: Agent, case: Case, message: Message) -> Message:
    return present(agent, case, [message])[0]
