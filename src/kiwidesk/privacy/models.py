"""The audit log: who opened or was refused what, when, and why.

Append-only and hash-chained (see `privacy.audit`): each record carries its place in
the chain (`sequence`) and a digest over the previous digest and its own fields.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditOutcome(models.TextChoices):
    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"


class AuditRecord(models.Model):
    # DO_NOTHING without a database constraint: clearing the actor on an agent's
    # deletion would be an UPDATE, which the log refuses. `actor_label` keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, help_text="What was asked for, e.g. case.view.")
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    outcome = models.CharField(max_length=8, choices=AuditOutcome.choices)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sequence = models.PositiveBigIntegerField(unique=True)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        actor = self.actor_label or "-"
        return f"{actor} {self.action} {self.object_type}:{self.object_id} {self.outcome}"


class BreakGlassGrant(models.Model):
    """An agent's time-limited access to one case their clearance does not cover.

    Opened with a stated reason; the case team's leads are told and every use is
    audited. `ended_at` is set when the agent closes it early.
    """

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="break_glass_grants"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="break_glass_grants"
    )
    reason = models.CharField(max_length=500)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["agent", "case", "expires_at"], name="break_glass_active")]

    def __str__(self) -> str:
        return f"{self.agent} on case {self.case_id} until {self.expires_at:%Y-%m-%d %H:%M}"
