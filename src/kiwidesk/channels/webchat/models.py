"""A visitor's chat session and the entries of its stream."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Message, Thread


class EndReason(models.TextChoices):
    CLOSED = "closed", "The visitor ended the chat"
    IDLE = "idle", "The visitor left (no heartbeat)"


class ChatSession(models.Model):
    """One visitor's chat, from the first open of the widget until they leave.

    The visitor holds the token (in the widget's localStorage); only its SHA-256 is
    stored. `thread` is the customer thread the chat's messages land on, known from
    the first message. `last_entry_id` is the newest ChatEntry of the session, so a
    waiting stream polls one row by primary key instead of the entries.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    public_id = models.CharField(max_length=32, unique=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    origin = models.CharField(max_length=200, blank=True, help_text="The site the chat ran on.")
    client_hash = models.CharField(
        max_length=64, blank=True, help_text="A keyed hash of the client's address (rate limit)."
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="chat_sessions"
    )
    email = models.CharField(
        max_length=254, blank=True, help_text="Given by the visitor and confirmed with a code."
    )
    name = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    last_entry_id = models.PositiveBigIntegerField(default=0)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)
    transcript_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["ended_at", "last_seen_at"], name="chat_session_open_seen"),
            models.Index(fields=["client_hash", "started_at"], name="chat_session_client_started"),
        ]

    def __str__(self) -> str:
        return f"Chat {self.public_id}"

    @property
    def has_ended(self) -> bool:
        return self.ended_at is not None


class ChatEntry(models.Model):
    """One message as the visitor's stream shows it; its id is the SSE event id.

    Entries of one session are appended under a lock on the session row, so their ids
    grow in commit order and a stream resuming after id N can never miss one.
    """

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="entries")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="chat_entry")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["session", "id"], name="chat_entry_session_id")]

    def __str__(self) -> str:
        return f"Entry {self.pk} of chat {self.session_id}"


class EmailCode(models.Model):
    """A one-time code mailed to the address a visitor says is theirs.

    The chat joins that address's contact only once the visitor types the code back,
    so nobody can pose as a known customer by typing their address. The code is kept
    only as a keyed hash (HMAC with the secret key), it expires, and it allows a few
    tries; a newer code of the session replaces it.
    """

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="email_codes")
    address = models.CharField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["session", "created_at"], name="chat_code_session_created"),
            models.Index(fields=["address", "created_at"], name="chat_code_address_created"),
        ]

    def __str__(self) -> str:
        return f"Code for {self.address} (chat {self.session_id})"
