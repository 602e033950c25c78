"""The audit log: who opened or was refused what, when, and why.

Append-only and hash-chained (see `privacy.audit`): each record carries its place in
the chain (`sequence`) and a digest over the previous digest and its own fields.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from kiwidesk.cases.models import Sensitivity


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


class RetentionAction(models.TextChoices):
    ANONYMISE = "anonymise", "Anonymise"
    DELETE = "delete", "Delete"


class RetentionPolicy(models.Model):
    """How long closed cases of one sensitivity (and organisation) keep their content.

    A policy with an organisation is more specific than one without, and wins for that
    organisation's cases (`privacy.retention`). At most one policy per pair.
    """

    sensitivity = models.CharField(max_length=12, choices=Sensitivity.choices)
    organisation = models.ForeignKey(
        "contacts.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="retention_policies",
        help_text="Empty: any organisation without a policy of its own.",
    )
    action = models.CharField(max_length=10, choices=RetentionAction.choices)
    after_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(36_500)],
        help_text="Days after a case was closed.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "retention policies"
        ordering = ["sensitivity", "organisation__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sensitivity", "organisation"], name="retention_policy_unique"
            ),
            # NULLs are distinct in a unique index: one "any organisation" policy per level.
            models.UniqueConstraint(
                fields=["sensitivity"],
                condition=models.Q(organisation__isnull=True),
                name="retention_policy_any_org_unique",
            ),
        ]

    def __str__(self) -> str:
        scope = self.organisation.name if self.organisation else "any organisation"
        level = self.get_sensitivity_display()
        return f"{level} cases of {scope}: {self.action} after {self.after_days} days"


class AnonymisedCase(models.Model):
    """A closed case whose content retention (or an erasure) has replaced, so it is done once."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="anonymisation"
    )
    anonymised_at = models.DateTimeField(default=timezone.now)
    policy = models.ForeignKey(
        RetentionPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Case {self.case_id} anonymised {self.anonymised_at:%Y-%m-%d}"
