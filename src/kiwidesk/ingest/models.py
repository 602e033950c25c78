"""What ingest remembers: which deliveries it stored, and what it could not store."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from kiwidesk.cases.models import Channel, Message
from kiwidesk.vault.fields import EncryptedBinaryField


class Receipt(models.Model):
    """One (source, external_id) ingest has stored: the idempotency key of every delivery.

    Written in the same transaction as its message, so a crash before commit leaves
    neither and a redelivery stores it; a redelivery after commit finds this row.
    """

    source = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255)
    sender = models.CharField(
        max_length=254, help_text="The normalised sender address, for the rate limit."
    )
    # Null only inside the claiming transaction, between the claim and the message write.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="receipt_source_external_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["sender", "received_at"], name="receipt_sender_received")]

    def __str__(self) -> str:
        return f"{self.external_id} from {self.source}"


class QuarantinedMessage(models.Model):
    """Bytes a channel received but could not turn into a message, kept exactly as sent."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    adapter = models.CharField(
        max_length=30,
        blank=True,
        help_text="The adapter whose parser reads these bytes, when one channel has several "
        "(WhatsApp through Twilio or through Meta); empty means the channel's own.",
    )
    source = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    raw = EncryptedBinaryField()
    reason = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    reprocessed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The message it became when it was re-processed.",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["source", "external_id"], name="quarantine_source_external"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} from {self.source}: {self.reason[:60]}"


class Delivery(models.Model):
    """A verified webhook body, stored on arrival and turned into messages by the worker.

    The webhook answers as soon as this row is committed, so the provider never
    waits on ingest; the body is kept until its handler has run, and a body that
    keeps failing is quarantined with its bytes, never dropped.
    """

    adapter = models.CharField(
        max_length=30, help_text="The registered handler that reads these bytes."
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    source = models.CharField(max_length=255)
    raw = EncryptedBinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(
        default=timezone.now, help_text="When its processing was last queued."
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # The stall sweep reads only the unprocessed few, however many are kept.
            models.Index(
                fields=["queued_at"],
                condition=models.Q(processed_at__isnull=True),
                name="delivery_unprocessed_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adapter} delivery to {self.source} at {self.received_at:%Y-%m-%d %H:%M:%S}"
