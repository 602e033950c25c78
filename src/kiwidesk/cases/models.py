"""Case, Thread, Message, Attachment and Event: the record of every customer need."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from kiwidesk.accounts.models import Team
from kiwidesk.contacts.models import Contact
from kiwidesk.vault.fields import EncryptedTextField


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING_CUSTOMER = "pending_customer", "Pending customer"
    PENDING_THIRD_PARTY = "pending_third_party", "Pending third party"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING_CUSTOMER,
    Status.PENDING_THIRD_PARTY,
    Status.ON_HOLD,
)
PENDING_STATUSES = (Status.PENDING_CUSTOMER, Status.PENDING_THIRD_PARTY, Status.ON_HOLD)
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Sensitivity(models.TextChoices):
    NORMAL = "normal", "Normal"
    CONFIDENTIAL = "confidential", "Confidential"
    CLINICAL = "clinical", "Clinical"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    CHAT = "chat", "Web chat"
    PHONE = "phone", "Phone"
    API = "api", "API"
    INTERNAL = "internal", "Internal"


class Party(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    THIRD_PARTY = "third_party", "Third party"
    INTERNAL = "internal", "Internal"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    subject = models.CharField(max_length=250)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    category = models.CharField(max_length=80, blank=True)
    tags = models.ManyToManyField(Tag, related_name="cases", blank=True)
    sensitivity = models.CharField(
        max_length=12, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )
    customer = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    channel = models.CharField(
        max_length=10, choices=Channel.choices, help_text="The channel the case arrived on."
    )
    due_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, help_text="Last activity.")
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            # One index per inbox view, each ending in the default sort, so the first
            # page of any view is an index range scan rather than a sort of the table.
            models.Index(fields=["status", "updated_at"], name="case_status_updated"),
            models.Index(fields=["assignee", "status", "updated_at"], name="case_assignee_status"),
            models.Index(fields=["team", "status", "updated_at"], name="case_team_status"),
            models.Index(fields=["updated_at"], name="case_updated"),
            models.Index(fields=["customer", "created_at"], name="case_customer_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


def new_reply_token() -> str:
    """A random, unguessable token for a thread's reply address (80 bits, lower-case)."""
    return secrets.token_hex(10)


class Thread(models.Model):
    """One conversation inside a case, with one party over one channel."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="threads")
    party = models.CharField(max_length=12, choices=Party.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="threads"
    )
    subject = models.CharField(max_length=250, blank=True)
    reply_token = models.CharField(
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        help_text="Secret in the reply address (support+TOKEN@…) that routes answers here.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "channel"], name="thread_case_channel")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(party="internal") | models.Q(contact__isnull=False),
                name="thread_has_contact_unless_internal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()} · {self.get_channel_display()} on case {self.case_id}"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    NOTE = "note", "Internal note"


class DeliveryStatus(models.TextChoices):
    """For outbound messages: how far delivery has come (channels record the later steps)."""

    NONE = "", "—"
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    READ = "read", "Read"


class Message(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    author_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    body_text = EncryptedTextField(blank=True)
    body_html = EncryptedTextField(blank=True, help_text="Sanitised with nh3 before it is stored.")
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    full_text = EncryptedTextField(
        blank=True, help_text="The whole text with quotes and signature, when it differs."
    )
    raw_file = models.FileField(
        upload_to="raw/", blank=True, help_text="The message exactly as it arrived."
    )
    is_automated = models.BooleanField(
        default=False, help_text="An auto-reply or bounce: never answered automatically."
    )
    sensitivity = models.CharField(
        max_length=12,
        choices=Sensitivity.choices,
        default=Sensitivity.NORMAL,
        help_text="A clinical note in a normal case is withheld from agents not cleared for it.",
    )
    pii = models.JSONField(
        default=list,
        blank=True,
        help_text="Personal data found in body_text on ingest: [[type, start, end], ...].",
    )
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_created")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message {self.pk} on case {self.case_id}"


class OutboxItem(models.Model):
    """An outbound message still on its way out: when its next attempt is due, and how many
    attempts it has had. The row goes when the message is sent or fails for good, so the
    table holds only what is in flight, however many messages were ever sent.

    The message's own `delivery_status` says pending or sending; `due_at` means "try no
    earlier than" while pending, and "counts as stalled after" while sending.
    """

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="outbox_item")
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Outbox item for message {self.message_id}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_id = models.CharField(
        max_length=255, blank=True, help_text="The Content-ID a mail's HTML shows it by (cid:)."
    )
    pii = models.JSONField(
        default=list,
        blank=True,
        help_text="Personal data found in a text attachment when stored: [[type, start, end], "
        "...] over its UTF-8 text.",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CASE_OPENED = "case_opened", "Case opened"
    MESSAGE_RECEIVED = "message_received", "Message received"
    MESSAGE_SENT = "message_sent", "Message sent"
    NOTE_ADDED = "note_added", "Note added"
    THREAD_OPENED = "thread_opened", "Thread opened"
    STATUS_CHANGED = "status_changed", "Status changed"
    CASE_REOPENED = "case_reopened", "Case reopened"
    ASSIGNED = "assigned", "Assignee changed"
    TEAM_CHANGED = "team_changed", "Team changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    CATEGORY_CHANGED = "category_changed", "Category changed"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    SENSITIVITY_CHANGED = "sensitivity_changed", "Sensitivity changed"
    SUBJECT_CHANGED = "subject_changed", "Subject changed"
    DUE_CHANGED = "due_changed", "Due date changed"
    CASE_MERGED = "case_merged", "Case merged in"
    MERGED_INTO = "merged_into", "Merged into another case"
    DELIVERY_UPDATED = "delivery_updated", "Delivery updated"
    MERGE_SUGGESTED = "merge_suggested", "Merge suggested"
    FOLLOWS_CLOSED_CASE = "follows_closed_case", "Follows a closed case"
    ATTACHMENT_REFUSED = "attachment_refused", "Attachment refused"
    CALL_LOGGED = "call_logged", "Call logged"
    RECORDING_ATTACHED = "recording_attached", "Call recording attached"
    TRANSCRIPT_ATTACHED = "transcript_attached", "Call transcript attached"
    CHAT_ENDED = "chat_ended", "Chat ended"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    FOLLOW_UP_SENT = "follow_up_sent", "Reminder sent"
    FOLLOW_UP_REFUSED = "follow_up_refused", "Reminder not sent"
    SOLVED_AFTER_FOLLOW_UPS = "solved_after_follow_ups", "Solved after reminders"
    BREAK_GLASS = "break_glass", "Opened by break-glass"
    MESSAGE_SENSITIVITY_CHANGED = "message_sensitivity", "Message sensitivity changed"


class Event(models.Model):
    """An immutable fact on a case's timeline. Clocks and metrics are derived from these."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_created"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", "Answered"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    VOICEMAIL = "voicemail", "Voicemail"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# An outbound call with one of these outcomes reached nobody: it is not an answer to the
# party, so it does not change who waits for whom (queries.last_directions).
UNREACHED_OUTCOMES = (
    CallOutcome.NO_ANSWER,
    CallOutcome.BUSY,
    CallOutcome.FAILED,
    CallOutcome.CANCELED,
)


class Call(models.Model):
    """A phone call on a thread. Its Message puts it in the thread and the timeline: the
    message's direction is the call's, its text the agent's notes."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="call")
    from_number = models.CharField(max_length=32, help_text="E.164.")
    to_number = models.CharField(max_length=32, help_text="E.164.")
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=12, choices=CallOutcome.choices)
    source = models.CharField(
        max_length=40,
        blank=True,
        help_text="The telephony provider that knows the call (twilio); empty when only logged.",
    )
    provider_call_id = models.CharField(max_length=64, blank=True, help_text="Twilio's CallSid.")
    recording = models.OneToOneField(
        Attachment, on_delete=models.SET_NULL, null=True, blank=True, related_name="recording_of"
    )
    recording_sid = models.CharField(
        max_length=64, blank=True, help_text="The provider's id of the recording (RecordingSid)."
    )
    transcript = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "provider_call_id"],
                condition=~models.Q(provider_call_id=""),
                name="call_source_provider_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Call {self.from_number} → {self.to_number} ({self.get_outcome_display()})"

    @property
    def reached_party(self) -> bool:
        return self.outcome not in UNREACHED_OUTCOMES
