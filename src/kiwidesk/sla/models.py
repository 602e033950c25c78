"""Business calendars, SLA policies with their targets, and the clocks a case owes."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Case, Channel, Priority, Sensitivity, Thread
from kiwidesk.contacts.models import Organisation, Tier
from kiwidesk.sla import calendar
from kiwidesk.sla.metrics import Metric, State


def _weekday_hours_help() -> str:
    return (
        "Opening hours per weekday (0 = Monday … 6 = Sunday), local time: "
        '{"0": [["09:00", "17:00"]], "4": [["22:00", "06:00"]]}; an end not after its '
        "start runs overnight."
    )


class BusinessCalendar(models.Model):
    """Opening hours in one time zone, closed on public holidays and extra dates."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="IANA, e.g. Europe/Berlin."
    )
    weekly_hours = models.JSONField(default=dict, help_text=_weekday_hours_help())
    is_always_open = models.BooleanField(default=False, help_text="24/7: hours are ignored.")
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO code for public holidays (holidays library)."
    )
    subdivision = models.CharField(max_length=10, blank=True, help_text="State or region code.")
    extra_closed_dates = models.JSONField(
        default=list, blank=True, help_text='More closed dates: ["2026-12-24", …].'
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.to_calendar()
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ValidationError(str(error)) from error

    def to_calendar(self) -> calendar.Calendar:
        """The pure calendar these settings describe (raises ValueError when they are wrong)."""
        if self.is_always_open:
            return calendar.Calendar.always()
        weekly = {
            int(day): tuple(
                calendar.Interval(time.fromisoformat(start), time.fromisoformat(end))
                for start, end in openings
            )
            for day, openings in self.weekly_hours.items()
        }
        extra = frozenset(date.fromisoformat(day) for day in self.extra_closed_dates)
        if not self.country:
            return calendar.Calendar(self.time_zone, weekly, extra)
        return calendar.Calendar.with_holidays(
            timezone=self.time_zone,
            weekly=weekly,
            country=self.country,
            subdivision=self.subdivision or None,
            extra=extra,
        )


def _choices_list(choices: Any) -> str:
    return ", ".join(value for value, _ in choices)


DEFAULT_FOLLOW_UP_MESSAGE = (
    "We are still waiting for your answer to our last message. "
    "Reply to this message and we will pick your case up again."
)
DEFAULT_SOLVE_NOTICE = (
    "We have not heard back from you, so we have closed this case. "
    "Reply to this message at any time and it opens again."
)


class Policy(models.Model):
    """Targets for the cases its conditions match; the first matching policy by position wins.

    An empty condition matches any case. Tags match when the case has at least one.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0, db_index=True)
    is_active = models.BooleanField(default=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="policies",
        help_text="For business-hours targets; none means 24/7.",
    )  # fmt: skip
    tiers = models.JSONField(default=list, blank=True, help_text=_choices_list(Tier.choices))
    priorities = models.JSONField(
        default=list, blank=True, help_text=_choices_list(Priority.choices)
    )
    channels = models.JSONField(default=list, blank=True, help_text=_choices_list(Channel.choices))
    categories = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="Any of these tag names.")
    sensitivities = models.JSONField(
        default=list, blank=True, help_text=_choices_list(Sensitivity.choices)
    )
    follow_up_limit = models.PositiveSmallIntegerField(
        default=3, help_text="Reminders sent while pending-customer, at most."
    )
    solves_after_follow_ups = models.BooleanField(
        default=False, help_text="Solve the case with a notice after the last reminder."
    )
    follow_up_message = models.TextField(
        default=DEFAULT_FOLLOW_UP_MESSAGE,
        help_text="The reminder sent to the customer while the case waits on them.",
    )
    solve_notice = models.TextField(
        default=DEFAULT_SOLVE_NOTICE,
        help_text="Sent to the customer when the case is solved after the last reminder.",
    )
    warn_minutes_before = models.PositiveIntegerField(
        null=True, blank=True, help_text="Warn this many minutes before a clock is due."
    )
    # What a warning and a breach do (sla.actions), each through the case services.
    warning_notifies = models.BooleanField(
        default=False, help_text="On warning, email the assignee and the team's leads."
    )
    warning_raises_priority = models.BooleanField(default=False, help_text="On warning, one step.")
    warning_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="On warning, move the case to this team.",
    )  # fmt: skip
    warning_assignee = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="On warning, assign the case to this agent.",
    )  # fmt: skip
    warning_tag = models.CharField(max_length=50, blank=True, help_text="On warning, add this tag.")
    breach_notifies = models.BooleanField(
        default=False, help_text="On breach, email the assignee and the team's leads."
    )
    breach_raises_priority = models.BooleanField(default=False, help_text="On breach, one step.")
    breach_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="On breach, move the case to this team.",
    )  # fmt: skip
    breach_assignee = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="On breach, assign the case to this agent.",
    )  # fmt: skip
    breach_tag = models.CharField(max_length=50, blank=True, help_text="On breach, add this tag.")

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """How long a metric may take for a priority, in business or calendar time."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=24, choices=[(m.value, m.value) for m in Metric])
    priority = models.CharField(max_length=10, choices=Priority.choices)
    minutes = models.PositiveIntegerField()
    is_business_time = models.BooleanField(default=True, help_text="Else calendar hours.")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Third-party response only: this third party's own target.",
    )

    class Meta:
        ordering = ["policy", "metric", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "metric", "priority", "organisation"],
                name="target_unique_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["policy", "metric", "priority"],
                condition=models.Q(organisation__isnull=True),
                name="target_unique_general",
            ),
            models.CheckConstraint(
                condition=models.Q(organisation__isnull=True)
                | models.Q(metric=Metric.THIRD_PARTY_RESPONSE),
                name="target_organisation_only_for_third_parties",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.priority}: {self.minutes} min"


class RowId(models.BigAutoField):  # type: ignore[type-arg]
    """An auto id without SQLite's AUTOINCREMENT, for a table that is only a cache.

    AUTOINCREMENT makes SQLite read and write its sequence table on every insert, about a
    fifth of writing a clock; without it an id freed at the top may be handed out again,
    which no one minds for rows that are replaced wholesale. PostgreSQL is unchanged.
    """

    def db_type_suffix(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return None
        suffix: str | None = super().db_type_suffix(connection)
        return suffix


class Clock(models.Model):
    """A case's clock for one metric (one per third-party thread), derived from its events.

    Rows are replaced whenever the case's events change (sla.services.recompute_case).
    """

    id = RowId(primary_key=True)
    # No index of their own on case and policy: the unique constraint's index starts with
    # the case, and a policy is deleted seldom enough to scan for its clocks. A million
    # cases have millions of clocks, and every index is paid on each rebuild's insert.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks", db_index=False)
    metric = models.CharField(max_length=24, choices=[(m.value, m.value) for m in Metric])
    thread = models.ForeignKey(
        Thread,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="clocks",
        db_index=False,
    )
    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="clocks", db_index=False
    )
    state = models.CharField(max_length=10, choices=[(s.value, s.value) for s in State])
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.PositiveIntegerField(
        default=0, help_text="Counted time of the current cycle (business or calendar)."
    )
    cycles = models.PositiveIntegerField(default=1)
    breaches = models.PositiveIntegerField(default=0, help_text="Cycles that breached.")
    computed_at = models.DateTimeField(default=timezone.now)
    # Set by the timer that claimed the warning or breach of this row (sla.timers); a
    # recompute replaces the row, and the case's Events then tell what already fired.
    warned_at = models.DateTimeField(null=True, blank=True)
    breach_fired_at = models.DateTimeField(null=True, blank=True)
    # A firing that raised is retried after this, not on every sweep.
    check_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "metric", "thread"]
        indexes = [
            # The breach timers and the inbox "next breach" sort read only running clocks.
            models.Index(
                fields=["due_at"], condition=models.Q(state="active"), name="clock_active_due"
            ),
            # The next-breach sort puts cases with an overdue clock first.
            models.Index(
                fields=["due_at"],
                condition=models.Q(state="breached", stopped_at__isnull=True),
                name="clock_overdue",
            ),
            # Deleting a thread (with its case) finds its clocks; most clocks have none.
            models.Index(
                fields=["thread"],
                condition=models.Q(thread__isnull=False),
                name="clock_thread",
            ),
        ]
        constraints = [
            # One clock per case and metric, or per third-party thread: one index for
            # both (a thread-less clock counts as thread 0), as each index is paid on
            # every row a rebuild writes.
            models.UniqueConstraint(
                F("case"),
                F("metric"),
                Coalesce(F("thread"), Value(0)),
                name="clock_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} on case {self.case_id}: {self.state}"
