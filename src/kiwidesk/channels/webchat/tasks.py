"""Background jobs of the web chat: end idle chats, mail transcripts.

Each task loads by id and calls one service. The idle check is a timer: it runs when
the session would first be idle and, finding a newer heartbeat, queues itself again
for the new time, so a chat costs one queued task however long it lasts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.webchat import services
from kiwidesk.channels.webchat.models import ChatSession
from kiwidesk.channels.webchat.transcript import mail_transcript

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT_ATTEMPTS = 5
TRANSCRIPT_RETRY_DELAY = timedelta(minutes=5)


@task()
def end_chat_if_idle(session_id: int) -> bool:
    """End the chat if its visitor has gone quiet; else look again when it could be."""
    check = services.end_if_idle(session_id)
    if check.check_again_at is not None:
        schedule_idle_check(session_id, check.check_again_at)
    return check.ended


@task()
def end_idle_chats() -> list[int]:
    """End every idle chat at once (for a worker start or cron)."""
    return services.end_idle_sessions()


@task()
def send_transcript(session_id: int) -> str:
    """Mail the chat's transcript to the visitor once; a transient failure retries later.

    Marked sent after the mail server accepted it: a worker dying in between sends
    it again (at least once, never lost).
    """
    session = ChatSession.objects.select_related("team", "thread").get(pk=session_id)
    if session.transcript_sent_at is not None:
        return "already sent"
    attempts = session.transcript_attempts + 1
    ChatSession.objects.filter(pk=session_id).update(transcript_attempts=attempts)
    try:
        message_id = mail_transcript(session)
    except SendError as exc:
        return _not_sent(session_id, attempts, str(exc), is_permanent=exc.is_permanent)
    except Exception as exc:
        # A mail provider's API error or a bug counts as transient, so the attempt
        # cap still ends it (as the outbox does for its senders).
        logger.exception("mailing the transcript of chat %s failed unexpectedly", session_id)
        return _not_sent(session_id, attempts, f"{type(exc).__name__}: {exc}", is_permanent=False)
    ChatSession.objects.filter(pk=session_id).update(transcript_sent_at=timezone.now())
    return message_id


def _not_sent(session_id: int, attempts: int, reason: str, *, is_permanent: bool) -> str:
    logger.warning("transcript of chat %s not sent: %s", session_id, reason)
    if is_permanent or attempts >= MAX_TRANSCRIPT_ATTEMPTS:
        return f"failed: {reason}"
    _defer(send_transcript, session_id, timezone.now() + TRANSCRIPT_RETRY_DELAY * attempts)
    return f"retrying: {reason}"


def schedule_idle_check(session_id: int, when: datetime) -> None:
    """Queue the idle check of a session for `when`.

    A backend that cannot defer (the immediate one, in development) gets no timer:
    the `end_idle_chats` sweep ends those sessions.
    """
    _defer(end_chat_if_idle, session_id, when)


def _defer(job: Task[[int], Any], session_id: int, when: datetime) -> None:
    if job.get_backend().supports_defer:
        job.using(run_after=when).enqueue(session_id)
