"""The sender of each channel, so the outbox can send without cases importing channels.

The layers point one way (channels → ingest → cases), so each channel registers its
sender here from its AppConfig.ready(), as it registers its parser with ingest.

A sender takes a pending outbound Message and returns the provider's id for it (an
email's Message-ID without angle brackets, a Twilio MessageSid, a WhatsApp wamid). It
raises SendError, saying whether a retry can help; anything else it raises counts as
transient. A channel may also register a check that refuses a message before it is
stored (WhatsApp's 24-hour window), so the composer can say why instead of the
message failing later.

Channels with no sender (phone calls are logged, not sent; API cases have no
outbound transport) still get their replies queued: the outbox marks
each one failed with an Event naming the channel, so the agent sees at once that
nothing went out, and a channel that gains a sender needs no change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiwidesk.cases.models import Message, Thread

Send = Callable[[Message], str]
# Raises the channel's own refusal (a ValueError the composer shows) or returns None.
Check = Callable[[Thread, datetime], None]


class SendError(RuntimeError):
    """A sender could not send; `is_permanent` says whether a retry can help."""

    def __init__(self, reason: str, *, is_permanent: bool) -> None:
        super().__init__(reason)
        self.is_permanent = is_permanent


class NoSenderError(LookupError):
    """No channel registered a sender for this channel name."""


@dataclass(frozen=True)
class _Registration:
    send: Send
    check: Check | None


_SENDERS: dict[str, _Registration] = {}


def register(channel: str, send: Send, *, check: Check | None = None) -> None:
    """Make `send` the sender of `channel`; a later registration replaces an earlier one."""
    _SENDERS[channel] = _Registration(send, check)


def sender_for(channel: str) -> Send:
    """Return the registered sender of `channel`, or raise NoSenderError."""
    try:
        return _SENDERS[channel].send
    except KeyError:
        raise NoSenderError(f"Nothing can send on the '{channel!s}' channel.") from None


def ensure_sendable(thread: Thread, *, at: datetime) -> None:
    """Raise the channel's refusal when a message on `thread` could not be sent at `at`."""
    registration = _SENDERS.get(thread.channel)
    if registration is not None and registration.check is not None:
        registration.check(thread, at)
