"""What a web chat keeps about a visitor, for privacy's export and erasure."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kiwidesk.channels.webchat.models import ChatSession, EmailCode
from kiwidesk.privacy import registry
from kiwidesk.privacy.registry import ErasureScope

NAME = "webchat"


def register() -> None:
    registry.register(NAME, erase=erase, export=export)


def _sessions(scope: ErasureScope) -> Q:
    addresses = [value.lower() for value in scope.values if "@" in value]
    return Q(thread_id__in=scope.thread_ids) | Q(email__in=addresses)


def erase(scope: ErasureScope) -> int:
    """Forget the address, name and client hash of the subject's chats, and their codes."""
    session_ids = list(ChatSession.objects.filter(_sessions(scope)).values_list("pk", flat=True))
    addresses = [value.lower() for value in scope.values if "@" in value]
    codes, _ = EmailCode.objects.filter(
        Q(session_id__in=session_ids) | Q(address__in=addresses)
    ).delete()
    sessions = ChatSession.objects.filter(pk__in=session_ids).update(
        email="", name="", client_hash=""
    )
    return codes + sessions


def export(scope: ErasureScope) -> dict[str, list[dict[str, Any]]]:
    sessions = ChatSession.objects.filter(_sessions(scope)).order_by("started_at", "pk")
    return {
        "chat_sessions": [
            {
                "id": session.public_id,
                "thread_id": session.thread_id,
                "email": session.email,
                "name": session.name,
                "origin": session.origin,
                "started_at": session.started_at.isoformat(),
                "ended_at": session.ended_at.isoformat() if session.ended_at else None,
                "end_reason": session.end_reason,
            }
            for session in sessions
        ]
    }
