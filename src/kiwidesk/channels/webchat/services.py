"""The verbs of a web chat: start it, post a visitor's message, publish a reply, end it.

A visitor's message goes through `ingest` like every channel's; the chat only adds
its stream (ChatEntry rows, one per message the visitor sees) and its session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from kiwidesk.accounts.models import Team
from kiwidesk.cases import events
from kiwidesk.cases.models import Channel, Direction, Message, Thread
from kiwidesk.channels.webchat.models import ChatEntry, ChatSession, EndReason
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.services import ingest

logger = logging.getLogger(__name__)

SOURCE = "chat"
# Until the visitor gives an email address, the session itself is who wrote: an
# address under RFC 2606's reserved `.invalid` domain, which no mail can reach.
PLACEHOLDER_DOMAIN = "chat.invalid"
VISITOR_NAME = "Web chat visitor"
# A person types a few messages a minute; more is a script, answered with 429.
RATE_LIMIT = 30
RATE_WINDOW = timedelta(minutes=1)
# Starting a chat costs a row and an idle-check task: a script opening thousands is
# stopped per client address (kept only as a keyed hash).
CHATS_PER_CLIENT = 10
CHATS_WINDOW = timedelta(minutes=1)
# last_seen_at is a heartbeat: writing it more often than this buys nothing.
SEEN_RESOLUTION = timedelta(seconds=15)


class ChatEndedError(ValueError):
    """The chat session has ended; the visitor must start a new one."""


class UnknownTeamError(ValueError):
    """The widget names a team that does not exist."""


class ChatRateLimitedError(ValueError):
    """The visitor sent more than RATE_LIMIT messages within RATE_WINDOW."""


class TooManyChatsError(ValueError):
    """One client address started more than CHATS_PER_CLIENT chats within CHATS_WINDOW."""


@dataclass(frozen=True)
class StartedChat:
    """A new session and the token only its visitor holds (shown once, stored hashed)."""

    session: ChatSession
    token: str


@dataclass(frozen=True)
class IdleCheck:
    """What an idle check did: ended the session, or when to look again (None: never)."""

    ended: bool
    check_again_at: datetime | None


def idle_after() -> timedelta:
    return timedelta(minutes=settings.KIWIDESK_CHAT_IDLE_MINUTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_hash(address: str) -> str:
    """A keyed hash of a client's IP address: enough to count its chats, not to read it."""
    if not address:
        return ""
    return salted_hmac("kiwidesk.webchat.client", address, algorithm="sha256").hexdigest()


def session_for_token(token: str) -> ChatSession | None:
    """The session a visitor's token opens, or None for an unknown token."""
    if not token:
        return None
    return (
        ChatSession.objects.select_related("team", "thread")
        .filter(token_hash=hash_token(token))
        .first()
    )


def start_session(
    *, team_slug: str, origin: str, client_address: str = "", at: datetime | None = None
) -> StartedChat:
    """Start a chat for a visitor of `origin`, its cases going to the team `team_slug`.

    Raises UnknownTeamError for a slug no team has, TooManyChatsError when
    `client_address` started CHATS_PER_CLIENT chats within CHATS_WINDOW. The idle
    check is queued after commit, so a visitor who never writes still has their
    session ended.
    """
    team = _team(team_slug)
    at = at or timezone.now()
    client = client_hash(client_address)
    if client and _chats_started_by(client, since=at - CHATS_WINDOW) >= CHATS_PER_CLIENT:
        raise TooManyChatsError("Too many new chats from your address; please wait a minute.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        session = ChatSession.objects.create(
            token_hash=hash_token(token),
            public_id=secrets.token_hex(12),
            team=team,
            origin=origin[:200],
            client_hash=client,
            started_at=at,
            last_seen_at=at,
        )
        transaction.on_commit(
            partial(_queue_idle_check, session.pk, at + idle_after()), robust=True
        )
    return StartedChat(session, token)


def post_message(
    session: ChatSession, *, client_id: str, text: str, at: datetime | None = None
) -> ChatEntry:
    """Ingest a visitor's message and put it on their stream; return its entry.

    Idempotent on `client_id` (the widget's id for the message): a retried post
    returns the entry of the stored message. The message and its entry commit
    together, so a stored message is never missing from the stream.
    """
    if session.has_ended:
        raise ChatEndedError("This chat has ended; start a new one.")
    at = at or timezone.now()
    if _is_over_rate_limit(session, at):
        raise ChatRateLimitedError(f"At most {RATE_LIMIT} messages a minute, please.")
    inbound = InboundMessage(
        channel=Channel.CHAT,
        source=SOURCE,
        external_id=f"{session.public_id}:{client_id}",
        sender=_sender(session),
        text=text,
        reply_token=_reply_token(session),
        sent_at=at,
    )
    with transaction.atomic():
        result = ingest(inbound, team=session.team)
        if session.thread_id != result.thread.pk:
            # The first message opens the thread; a closed case makes ingest open a new one.
            ChatSession.objects.filter(pk=session.pk).update(thread=result.thread)
            session.thread = result.thread
        entry = publish(session, result.message)
    mark_seen(session, at=at)
    return entry


def publish(session: ChatSession, message: Message) -> ChatEntry:
    """Put `message` on the session's stream (once: a second call returns the same entry)."""
    with transaction.atomic():
        # The session row lock orders the session's entries: an entry's id is taken
        # only after the previous entry committed, so a stream that has seen id N
        # can never later find an entry below N (PostgreSQL hands out ids at insert,
        # not at commit; SQLite's writers are serial anyway).
        ChatSession.objects.select_for_update().filter(pk=session.pk).first()
        entry, created = ChatEntry.objects.get_or_create(
            message=message, defaults={"session": session}
        )
        if created:
            ChatSession.objects.filter(pk=session.pk).update(last_entry_id=entry.pk)
    return entry


def mark_seen(session: ChatSession, *, at: datetime | None = None) -> None:
    """Record a heartbeat (a post or a stream opening) of the visitor.

    Best effort: on a database too busy to take the write now, the next heartbeat
    (a few seconds later, well within the idle time) records it instead.
    """
    at = at or timezone.now()
    try:
        ChatSession.objects.filter(
            pk=session.pk, ended_at__isnull=True, last_seen_at__lt=at - SEEN_RESOLUTION
        ).update(last_seen_at=at)
    except OperationalError:
        logger.info("heartbeat of chat %s not recorded: the database is busy", session.pk)


def end_session(session: ChatSession, *, at: datetime | None = None) -> bool:
    """End the chat because the visitor closed it; False when it had already ended."""
    at = at or timezone.now()
    claim = ChatSession.objects.filter(pk=session.pk, ended_at__isnull=True)
    return _end(session.pk, claim, reason=EndReason.CLOSED, at=at)


def end_if_idle(session_id: int, *, at: datetime | None = None) -> IdleCheck:
    """End the session when its visitor has sent no heartbeat for the idle time.

    The end is claimed by a conditional UPDATE that also checks the heartbeat, so a
    visitor who comes back at the last moment keeps their chat, and two checks
    cannot both end it.
    """
    at = at or timezone.now()
    cutoff = at - idle_after()
    claim = ChatSession.objects.filter(
        pk=session_id, ended_at__isnull=True, last_seen_at__lt=cutoff
    )
    if _end(session_id, claim, reason=EndReason.IDLE, at=at):
        return IdleCheck(ended=True, check_again_at=None)
    last_seen = (
        ChatSession.objects.filter(pk=session_id, ended_at__isnull=True)
        .values_list("last_seen_at", flat=True)
        .first()
    )
    if last_seen is None:
        return IdleCheck(ended=False, check_again_at=None)
    return IdleCheck(ended=False, check_again_at=last_seen + idle_after())


def end_idle_sessions(*, at: datetime | None = None) -> list[int]:
    """End every session idle for longer than the idle time; return their ids.

    The sweep for a worker start or cron, in case a per-session check was lost.
    """
    at = at or timezone.now()
    idle = ChatSession.objects.filter(
        ended_at__isnull=True, last_seen_at__lt=at - idle_after()
    ).values_list("pk", flat=True)
    return [pk for pk in list(idle) if end_if_idle(pk, at=at).ended]


def latest_session(thread: Thread) -> ChatSession | None:
    """The chat session that last wrote on `thread` (None for a thread with no chat)."""
    return thread.chat_sessions.order_by("-started_at", "-id").first()


def has_email_address(thread: Thread) -> bool:
    """Whether the thread's contact has a real email address (not a chat placeholder)."""
    if thread.contact is None:
        return False
    return (
        thread.contact.identities.filter(kind=IdentityKind.EMAIL)
        .exclude(value__endswith="@" + PLACEHOLDER_DOMAIN)
        .exists()
    )


def _end(session_id: int, claim: QuerySet[ChatSession], *, reason: str, at: datetime) -> bool:
    with transaction.atomic():
        if claim.update(ended_at=at, end_reason=reason) != 1:
            return False
        session = ChatSession.objects.select_related("thread").get(pk=session_id)
        if session.thread is not None:
            events.chat_ended(
                session.thread,
                reason=reason,
                transcript_to=session.email,
                messages=session.entries.count(),
                at=at,
            )
        if session.thread is not None and session.email:
            transaction.on_commit(partial(_queue_transcript, session.pk), robust=True)
    return True


def _team(slug: str) -> Team | None:
    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise UnknownTeamError(f"There is no team {slug!r}.")
    return team


def _sender(session: ChatSession) -> Sender:
    if session.email:
        return Sender(IdentityKind.EMAIL, session.email, session.name)
    placeholder = f"visitor-{session.public_id}@{PLACEHOLDER_DOMAIN}"
    return Sender(IdentityKind.EMAIL, placeholder, VISITOR_NAME)


def _reply_token(session: ChatSession) -> str:
    # Once the chat has a thread, its token routes every later message there, even
    # after the visitor gave an email address and so became another sender.
    if session.thread is None:
        return ""
    return session.thread.reply_token or ""


def _chats_started_by(client: str, *, since: datetime) -> int:
    return ChatSession.objects.filter(client_hash=client, started_at__gte=since).count()


def _is_over_rate_limit(session: ChatSession, at: datetime) -> bool:
    recent = ChatEntry.objects.filter(
        session=session,
        message__direction=Direction.INBOUND,
        message__created_at__gte=at - RATE_WINDOW,
    )
    return recent.count() >= RATE_LIMIT


def _queue_idle_check(session_id: int, when: datetime) -> None:
    from kiwidesk.channels.webchat import tasks

    tasks.schedule_idle_check(session_id, when)


def _queue_transcript(session_id: int) -> None:
    from kiwidesk.channels.webchat import tasks

    tasks.send_transcript.enqueue(session_id)
