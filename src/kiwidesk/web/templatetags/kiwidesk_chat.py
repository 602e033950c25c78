"""A web chat thread on the case page: who the visitor says they are, and the live poll."""

from __future__ import annotations

from typing import Any

from django import template

from kiwidesk.cases.models import Thread
from kiwidesk.channels.webchat import live

register = template.Library()


@register.inclusion_tag("web/_chat_status.html", takes_context=True)
def chat_status(context: template.Context, thread: Thread) -> dict[str, Any]:
    """The chat's state; the poll starts after the newest message the timeline shows."""
    timeline = context.get("timeline") or ()
    shown = [
        event.message_id
        for event in timeline
        if event.message_id is not None and event.thread_id == thread.pk
    ]
    return {
        "case_id": thread.case_id,
        "chat": live.chat_state(thread, shown_message_ids=shown),
    }
