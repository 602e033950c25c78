"""Shapes of the SLA policy, calendar and report forms. Forms check shape; sla.management
decides what is a valid policy or calendar."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django import forms
from django.db.models import Q

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Channel, Priority, Sensitivity
from kiwidesk.contacts.models import Tier
from kiwidesk.sla.management import (
    MAX_TARGET_MINUTES,
    CalendarSpec,
    PolicySpec,
    TargetSpec,
    policy_spec,
)
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import (
    DEFAULT_FOLLOW_UP_MESSAGE,
    DEFAULT_SOLVE_NOTICE,
    BusinessCalendar,
    Policy,
)
from kiwidesk.sla.queries import METRIC_NAMES
from kiwidesk.sla.reports import ReportFilters

BUSINESS = "business"
CALENDAR = "calendar"
HOURS_KINDS = [(BUSINESS, "Business hours"), (CALENDAR, "Calendar hours")]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# A hyphen or an en dash between the two times.
_OPENING = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*$")


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


@dataclass(frozen=True, slots=True)
class TargetCell:
    priority: str
    minutes: forms.BoundField
    kind: forms.BoundField


@dataclass(frozen=True, slots=True)
class TargetRow:
    name: str
    cells: list[TargetCell]


class PolicyForm(forms.Form):
    """A policy's conditions and, in one grid, its target per metric and priority."""

    name = forms.CharField(max_length=100)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    calendar = forms.ModelChoiceField(
        BusinessCalendar.objects.all(),
        required=False,
        empty_label="None (24/7)",
        help_text="Business-hours targets count only while this calendar is open.",
    )
    tiers = forms.MultipleChoiceField(
        choices=Tier.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any.",
    )  # fmt: skip
    priorities = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    sensitivities = forms.MultipleChoiceField(
        choices=Sensitivity.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    categories = forms.CharField(required=False, help_text="Comma-separated; empty: any.")
    tags = forms.CharField(
        required=False, help_text="Comma-separated; a case with any of them matches."
    )
    warn_minutes_before = forms.IntegerField(
        label="Warn this many minutes before the due time", required=False,
        help_text="Empty: no warning. Counted in calendar minutes, also for business-hours "
        "targets.",
    )  # fmt: skip
    warning_notifies = forms.BooleanField(
        label="Email the assignee and the team's leads", required=False
    )
    warning_raises_priority = forms.BooleanField(
        label="Raise the priority one step", required=False
    )
    warning_team_id = forms.TypedChoiceField(
        label="Move the case to", coerce=int, empty_value=None, required=False
    )
    warning_assignee_id = forms.TypedChoiceField(
        label="Assign the case to", coerce=int, empty_value=None, required=False
    )
    warning_tag = forms.CharField(label="Add the tag", required=False, strip=False)
    breach_notifies = forms.BooleanField(
        label="Email the assignee and the team's leads", required=False
    )
    breach_raises_priority = forms.BooleanField(label="Raise the priority one step", required=False)
    breach_team_id = forms.TypedChoiceField(
        label="Move the case to", coerce=int, empty_value=None, required=False
    )
    breach_assignee_id = forms.TypedChoiceField(
        label="Assign the case to", coerce=int, empty_value=None, required=False
    )
    breach_tag = forms.CharField(label="Add the tag", required=False, strip=False)
    follow_up_limit = forms.IntegerField(
        label="Reminders at most", initial=3, required=False,
        help_text="0 to 20. The follow-up target above sets how often they are sent.",
    )  # fmt: skip
    solves_after_follow_ups = forms.BooleanField(
        label="Solve the case after the last reminder", required=False
    )
    follow_up_message = forms.CharField(
        label="Reminder to the customer", required=False, initial=DEFAULT_FOLLOW_UP_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    solve_notice = forms.CharField(
        label="Notice when the case is solved", required=False, initial=DEFAULT_SOLVE_NOTICE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip

    def __init__(self, *args: Any, kept_ids: Sequence[int] = (), **kwargs: Any) -> None:
        """`kept_ids`: the agents the policy names now, listed even if deactivated since."""
        super().__init__(*args, **kwargs)
        self._set_escalation_choices(kept_ids)
        for metric in Metric:
            for priority, label in Priority.choices:
                where = f"{METRIC_NAMES[metric]}, {label}"
                self.fields[_minutes_name(metric, priority)] = forms.IntegerField(
                    required=False, min_value=1, max_value=MAX_TARGET_MINUTES,
                    label=f"{where}: minutes",
                    widget=forms.NumberInput(attrs={"aria-label": f"{where}: minutes"}),
                )  # fmt: skip
                self.fields[_kind_name(metric, priority)] = forms.ChoiceField(
                    choices=HOURS_KINDS, initial=BUSINESS, required=False,
                    label=f"{where}: hours",
                    widget=forms.Select(attrs={"aria-label": f"{where}: hours"}),
                )  # fmt: skip

    def _set_escalation_choices(self, kept_ids: Sequence[int]) -> None:
        teams = [("", "Keep the team"), *Team.objects.values_list("pk", "name")]
        agents = Agent.objects.filter(Q(is_active=True) | Q(pk__in=kept_ids))
        assignees = [("", "Keep the assignee"), *((a.pk, str(a)) for a in agents)]
        for when in ("warning", "breach"):
            self.fields[f"{when}_team_id"].choices = teams  # type: ignore[attr-defined]
            self.fields[f"{when}_assignee_id"].choices = assignees  # type: ignore[attr-defined]

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self._describe_errors()

    def _describe_errors(self) -> None:
        """Tie each field's errors to its input, so a screen reader reads them with it."""
        for name in self.errors:
            # A group of checkboxes shows its errors under its legend instead.
            if name not in self.fields or isinstance(
                self.fields[name].widget, forms.CheckboxSelectMultiple
            ):
                continue
            auto_id = self[name].auto_id
            described = [f"{auto_id}_helptext"] if self.fields[name].help_text else []
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(
                [*described, f"{auto_id}_error"]
            )

    @staticmethod
    def initial_for(policy: Policy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name, "is_active": policy.is_active, "calendar": policy.calendar_id,
            "tiers": policy.tiers, "priorities": policy.priorities,
            "channels": policy.channels, "sensitivities": policy.sensitivities,
            "categories": ", ".join(policy.categories), "tags": ", ".join(policy.tags),
        }  # fmt: skip
        saved = asdict(policy_spec(policy))
        initial.update({name: saved[name] for name in ACTION_FIELDS})
        for target in policy.targets.filter(organisation__isnull=True):
            initial[_minutes_name(target.metric, target.priority)] = target.minutes
            kind = BUSINESS if target.is_business_time else CALENDAR
            initial[_kind_name(target.metric, target.priority)] = kind
        return initial

    def target_rows(self) -> list[TargetRow]:
        return [
            TargetRow(
                METRIC_NAMES[metric],
                [
                    TargetCell(
                        priority,
                        self[_minutes_name(metric, priority)],
                        self[_kind_name(metric, priority)],
                    )
                    for priority in Priority.values
                ],
            )
            for metric in Metric
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ACTION_FIELDS:
            if name not in self.data and not isinstance(self.fields[name], forms.BooleanField):
                # Not sent at all (a client that knows only the older form): keep the value.
                initial = self.get_initial_for_field(self.fields[name], name)
                cleaned[name] = self.fields[name].clean("") if initial is None else initial
        if cleaned.get("follow_up_limit") is None and "follow_up_limit" in self.data:
            self.add_error("follow_up_limit", "Give the number of reminders, from 0 to 20.")
        return cleaned

    def spec(self, kept_targets: tuple[TargetSpec, ...] = ()) -> PolicySpec:
        """The policy as filled in; `kept_targets` (third parties' own) are not in the grid."""
        data = self.cleaned_data
        calendar = data["calendar"]
        return PolicySpec(
            name=data["name"], is_active=data["is_active"],
            calendar_id=calendar.pk if calendar else None,
            tiers=tuple(data["tiers"]), priorities=tuple(data["priorities"]),
            channels=tuple(data["channels"]), sensitivities=tuple(data["sensitivities"]),
            categories=_words(data["categories"]), tags=_words(data["tags"]),
            targets=self._targets() + kept_targets,
            **{name: data[name] for name in ACTION_FIELDS},
        )  # fmt: skip

    def _targets(self) -> tuple[TargetSpec, ...]:
        data = self.cleaned_data
        return tuple(
            TargetSpec(
                metric,
                priority,
                data[_minutes_name(metric, priority)],
                is_business_time=data[_kind_name(metric, priority)] != CALENDAR,
            )
            for metric in Metric
            for priority in Priority.values
            if data.get(_minutes_name(metric, priority))
        )


ESCALATION_FIELDS = ("notifies", "raises_priority", "team_id", "assignee_id", "tag")
FOLLOW_UP_FIELDS = (
    "follow_up_limit",
    "solves_after_follow_ups",
    "follow_up_message",
    "solve_notice",
)
# Named as in PolicySpec, so the form's data is the spec's.
ACTION_FIELDS = (
    "warn_minutes_before",
    *(f"warning_{name}" for name in ESCALATION_FIELDS),
    *(f"breach_{name}" for name in ESCALATION_FIELDS),
    *FOLLOW_UP_FIELDS,
)


def _minutes_name(metric: str, priority: str) -> str:
    return f"target_{metric}_{priority}"


def _kind_name(metric: str, priority: str) -> str:
    return f"target_{metric}_{priority}_hours"


class CalendarForm(forms.Form):
    """Weekly openings as text per weekday ("09:00-12:00, 13:00-17:00"), holidays, closed dates."""

    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="IANA, e.g. Europe/Berlin.")
    is_always_open = forms.BooleanField(
        label="Open 24/7", required=False, help_text="The weekly hours are then ignored."
    )
    country = forms.CharField(
        max_length=2, required=False, help_text="ISO code for public holidays, e.g. DE."
    )
    subdivision = forms.CharField(
        max_length=10, required=False, help_text="State or region, e.g. BE."
    )
    extra_closed_dates = forms.CharField(
        label="Extra closed dates", required=False,
        widget=forms.Textarea(attrs={"rows": 3}), help_text="One date a line: 2026-12-24.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, weekday in enumerate(WEEKDAYS):
            self.fields[f"day_{day}"] = forms.CharField(label=weekday, required=False)

    @staticmethod
    def initial_for(calendar: BusinessCalendar) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": calendar.name, "time_zone": calendar.time_zone,
            "is_always_open": calendar.is_always_open, "country": calendar.country,
            "subdivision": calendar.subdivision,
            "extra_closed_dates": "\n".join(calendar.extra_closed_dates),
        }  # fmt: skip
        for day, openings in calendar.weekly_hours.items():
            initial[f"day_{day}"] = ", ".join(f"{start}-{end}" for start, end in openings)
        return initial

    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[f"day_{day}"] for day in range(len(WEEKDAYS))]

    def clean_extra_closed_dates(self) -> tuple[str, ...]:
        lines = [line.strip() for line in self.cleaned_data["extra_closed_dates"].splitlines()]
        try:
            return tuple(date.fromisoformat(line).isoformat() for line in lines if line)
        except ValueError:
            raise forms.ValidationError("Write each date as YYYY-MM-DD, one a line.") from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for day in range(len(WEEKDAYS)):
            name = f"day_{day}"
            openings = [part for part in cleaned.get(name, "").split(",") if part.strip()]
            matches = [_OPENING.match(part) for part in openings]
            if not all(matches):
                self.add_error(name, "Write openings as 09:00-17:00, separated by commas.")
        return cleaned

    def spec(self) -> CalendarSpec:
        data = self.cleaned_data
        return CalendarSpec(
            name=data["name"], time_zone=data["time_zone"], weekly_hours=self._hours(),
            is_always_open=data["is_always_open"], country=data["country"],
            subdivision=data["subdivision"], extra_closed_dates=data["extra_closed_dates"],
        )  # fmt: skip

    def _hours(self) -> dict[str, list[list[str]]]:
        hours: dict[str, list[list[str]]] = {}
        for day in range(len(WEEKDAYS)):
            parts = self.cleaned_data[f"day_{day}"].split(",")
            openings = [_OPENING.match(part) for part in parts if part.strip()]
            if openings:
                hours[str(day)] = [
                    [_padded(m.group(1)), _padded(m.group(2))] for m in openings if m
                ]
        return hours


def _padded(clock_time: str) -> str:
    """A time as the calendar stores it: 9:00 becomes 09:00."""
    return clock_time.zfill(5)


class ReportFilterForm(forms.Form):
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="Any team")
    policy = forms.ModelChoiceField(Policy.objects.all(), required=False, empty_label="Any policy")
    starts_on = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and starts_on > ends_on:
            self.add_error("ends_on", "The range ends before it starts.")
        return cleaned

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        return ReportFilters(
            team_id=data["team"].pk if data["team"] else None,
            policy_id=data["policy"].pk if data["policy"] else None,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
