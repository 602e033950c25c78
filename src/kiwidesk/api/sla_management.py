"""SLA policies, business calendars and the SLA report, for support leads and admins."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date
from typing import Any, TypeVar

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from kiwidesk.accounts.models import Agent
from kiwidesk.api.auth import current_agent
from kiwidesk.api.schemas import ERRORS, ErrorOut, Id
from kiwidesk.sla import management
from kiwidesk.sla.management import (
    CalendarSpec,
    PolicySpec,
    SlaManagementForbiddenError,
    SlaSettingsInvalidError,
    TargetSpec,
)
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import (
    DEFAULT_FOLLOW_UP_MESSAGE,
    DEFAULT_SOLVE_NOTICE,
    BusinessCalendar,
    Policy,
)
from kiwidesk.sla.reports import ReportFilters, ReportRow, sla_report

router = Router(tags=["sla"])
RESPONSES = {403: ErrorOut, **ERRORS}
T = TypeVar("T")


class TargetIn(Schema):
    metric: Metric
    priority: str = Field(description="low, normal, high or urgent.")
    minutes: int
    is_business_time: bool = Field(True, description="False: calendar hours, 24/7.")
    organisation_id: Id | None = Field(None, description="Third-party response only.")


class TargetOut(TargetIn):
    pass


WARN_MINUTES = (
    "Warn this many calendar minutes before a clock is due (at least 1); null: no warning."
)
NOTIFIES = "email the case's assignee and the leads of its team."
RAISES_PRIORITY = "raise the case's priority one step (urgent stays urgent)."
TEAM = "move the case to this team; null: keep the team."
ASSIGNEE = "assign the case to this active agent; null: keep the assignee."
TAG = 'add this tag (stored as a case tag: lower case, at most 50 characters); "": none.'
FOLLOW_UP_LIMIT = "Reminders sent while the case waits on the customer, 0 to 20."
SOLVES = "Solve the case with `solve_notice` after the last reminder."
FOLLOW_UP_MESSAGE = "The reminder sent to the customer (not empty)."
SOLVE_NOTICE = "Sent to the customer when the case is solved after the last reminder (not empty)."


class PolicyIn(Schema):
    name: str
    is_active: bool = True
    calendar_id: Id | None = Field(None, description="For business-hours targets; none: 24/7.")
    tiers: list[str] = []
    priorities: list[str] = []
    channels: list[str] = []
    categories: list[str] = []
    tags: list[str] = []
    sensitivities: list[str] = []
    targets: list[TargetIn] = Field([], description="The whole set; it replaces the old one.")
    warn_minutes_before: int | None = Field(None, description=WARN_MINUTES)
    warning_notifies: bool = Field(False, description=f"On warning: {NOTIFIES}")
    warning_raises_priority: bool = Field(False, description=f"On warning: {RAISES_PRIORITY}")
    warning_team_id: Id | None = Field(None, description=f"On warning: {TEAM}")
    warning_assignee_id: Id | None = Field(None, description=f"On warning: {ASSIGNEE}")
    warning_tag: str = Field("", description=f"On warning: {TAG}")
    breach_notifies: bool = Field(False, description=f"On breach: {NOTIFIES}")
    breach_raises_priority: bool = Field(False, description=f"On breach: {RAISES_PRIORITY}")
    breach_team_id: Id | None = Field(None, description=f"On breach: {TEAM}")
    breach_assignee_id: Id | None = Field(None, description=f"On breach: {ASSIGNEE}")
    breach_tag: str = Field("", description=f"On breach: {TAG}")
    follow_up_limit: int = Field(3, description=FOLLOW_UP_LIMIT)
    solves_after_follow_ups: bool = Field(False, description=SOLVES)
    follow_up_message: str = Field(DEFAULT_FOLLOW_UP_MESSAGE, description=FOLLOW_UP_MESSAGE)
    solve_notice: str = Field(DEFAULT_SOLVE_NOTICE, description=SOLVE_NOTICE)


class PolicyPatch(Schema):
    """Only the fields sent change. Null clears `calendar_id`, `warn_minutes_before` and
    the team and assignee ids; for any other field null keeps what is there."""

    name: str | None = None
    is_active: bool | None = None
    calendar_id: Id | None = None
    tiers: list[str] | None = None
    priorities: list[str] | None = None
    channels: list[str] | None = None
    categories: list[str] | None = None
    tags: list[str] | None = None
    sensitivities: list[str] | None = None
    targets: list[TargetIn] | None = None
    order: int | None = Field(None, ge=1, description="Move to this place (1: checked first).")
    warn_minutes_before: int | None = Field(None, description=WARN_MINUTES)
    warning_notifies: bool | None = Field(None, description=f"On warning: {NOTIFIES}")
    warning_raises_priority: bool | None = Field(None, description=f"On warning: {RAISES_PRIORITY}")
    warning_team_id: Id | None = Field(None, description=f"On warning: {TEAM}")
    warning_assignee_id: Id | None = Field(None, description=f"On warning: {ASSIGNEE}")
    warning_tag: str | None = Field(None, description=f"On warning: {TAG}")
    breach_notifies: bool | None = Field(None, description=f"On breach: {NOTIFIES}")
    breach_raises_priority: bool | None = Field(None, description=f"On breach: {RAISES_PRIORITY}")
    breach_team_id: Id | None = Field(None, description=f"On breach: {TEAM}")
    breach_assignee_id: Id | None = Field(None, description=f"On breach: {ASSIGNEE}")
    breach_tag: str | None = Field(None, description=f"On breach: {TAG}")
    follow_up_limit: int | None = Field(None, description=FOLLOW_UP_LIMIT)
    solves_after_follow_ups: bool | None = Field(None, description=SOLVES)
    follow_up_message: str | None = Field(None, description=FOLLOW_UP_MESSAGE)
    solve_notice: str | None = Field(None, description=SOLVE_NOTICE)


# PATCH fields where null means "none" rather than "keep".
_CLEARABLE = frozenset(
    {
        "calendar_id",
        "warn_minutes_before",
        "warning_team_id",
        "warning_assignee_id",
        "breach_team_id",
        "breach_assignee_id",
    }
)


class PolicyOut(Schema):
    id: int
    order: int = Field(description="Place in the order policies are checked in (1: first).")
    name: str
    is_active: bool
    calendar_id: int | None
    tiers: list[str]
    priorities: list[str]
    channels: list[str]
    categories: list[str]
    tags: list[str]
    sensitivities: list[str]
    targets: list[TargetOut]
    warn_minutes_before: int | None = Field(description=WARN_MINUTES)
    warning_notifies: bool
    warning_raises_priority: bool
    warning_team_id: int | None
    warning_assignee_id: int | None
    warning_tag: str
    breach_notifies: bool
    breach_raises_priority: bool
    breach_team_id: int | None
    breach_assignee_id: int | None
    breach_tag: str
    follow_up_limit: int = Field(description=FOLLOW_UP_LIMIT)
    solves_after_follow_ups: bool = Field(description=SOLVES)
    follow_up_message: str
    solve_notice: str


class CalendarIn(Schema):
    name: str
    time_zone: str = Field("UTC", description="IANA, e.g. Europe/Berlin.")
    weekly_hours: dict[str, list[tuple[str, str]]] = Field(
        {},
        description='Weekday (0 = Monday) to openings: {"0": [["09:00", "17:00"]]}; an end '
        "not after its start runs overnight.",
    )
    is_always_open: bool = False
    country: str = Field("", description="ISO code for public holidays.")
    subdivision: str = ""
    extra_closed_dates: list[date] = []


class CalendarPatch(Schema):
    name: str | None = None
    time_zone: str | None = None
    weekly_hours: dict[str, list[tuple[str, str]]] | None = None
    is_always_open: bool | None = None
    country: str | None = None
    subdivision: str | None = None
    extra_closed_dates: list[date] | None = None


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    weekly_hours: dict[str, list[list[str]]]
    is_always_open: bool
    country: str
    subdivision: str
    extra_closed_dates: list[str]


class ReportRowOut(Schema):
    week: str = Field(description='ISO week the clocks started in: "2026-W10".')
    week_starts_on: date
    team_id: int | None
    team_name: str
    policy_id: int
    policy_name: str
    metric: Metric
    metric_name: str
    achieved: int
    breached: int


class ReportQuery(Schema):
    team_id: Id | None = None
    policy_id: Id | None = None
    starts_on: date | None = None
    ends_on: date | None = None


def _manager(request: HttpRequest) -> Agent:
    agent = current_agent(request)
    try:
        management.ensure_may_manage(agent)
    except SlaManagementForbiddenError as error:
        raise HttpError(403, str(error)) from None
    return agent


def _invalid(error: SlaSettingsInvalidError) -> HttpError:
    return HttpError(422, str(error))


# Policies ----------------------------------------------------------------------------


def _policy_out(policy: Policy, order: int) -> PolicyOut:
    spec = management.policy_spec(policy)
    return PolicyOut(
        id=policy.pk,
        order=order,
        **{name: value for name, value in asdict(spec).items() if name != "targets"},
        targets=[
            TargetOut(
                metric=Metric(t.metric), priority=t.priority, minutes=t.minutes,
                is_business_time=t.is_business_time, organisation_id=t.organisation_id,
            )
            for t in spec.targets
        ],
    )  # fmt: skip


def _policy(policy_id: int) -> Policy:
    return get_object_or_404(Policy.objects.prefetch_related("targets"), pk=policy_id)


def _targets(targets: list[TargetIn]) -> tuple[TargetSpec, ...]:
    return tuple(
        TargetSpec(t.metric, t.priority, t.minutes, t.is_business_time, t.organisation_id)
        for t in targets
    )


@router.get("/sla/policies", response={200: list[PolicyOut], **RESPONSES})
def list_policies(request: HttpRequest) -> list[PolicyOut]:
    """Every policy in the order they are checked; the first match applies."""
    _manager(request)
    policies = Policy.objects.prefetch_related("targets").order_by("position", "id")
    return [_policy_out(policy, order) for order, policy in enumerate(policies, start=1)]


@router.post("/sla/policies", response={201: PolicyOut, **RESPONSES})
def create_policy(request: HttpRequest, body: PolicyIn) -> Status[PolicyOut]:
    """Add a policy, checked after all the others."""
    agent = _manager(request)
    fields = body.model_dump(exclude={"targets"})
    spec = PolicySpec(**_tuples(fields), targets=_targets(body.targets))
    try:
        policy = management.create_policy(agent, spec)
    except SlaSettingsInvalidError as error:
        raise _invalid(error) from None
    return Status(201, _policy_out(_policy(policy.pk), management.policy_index(policy) + 1))


@router.get("/sla/policies/{policy_id}", response={200: PolicyOut, **RESPONSES})
def get_policy(request: HttpRequest, policy_id: int) -> PolicyOut:
    _manager(request)
    policy = _policy(policy_id)
    return _policy_out(policy, management.policy_index(policy) + 1)


@router.patch("/sla/policies/{policy_id}", response={200: PolicyOut, **RESPONSES})
def update_policy(request: HttpRequest, policy_id: int, body: PolicyPatch) -> PolicyOut:
    """Change what is given; `targets`, when given, replaces every target."""
    agent = _manager(request)
    policy = _policy(policy_id)
    try:
        with transaction.atomic():
            if body.model_fields_set - {"order"}:
                management.update_policy(agent, policy, _patched_policy(policy, body))
            if body.order is not None:
                management.move_policy(agent, policy, to_index=body.order - 1)
    except SlaSettingsInvalidError as error:
        raise _invalid(error) from None
    return _policy_out(_policy(policy_id), management.policy_index(policy) + 1)


def _patched_policy(policy: Policy, body: PolicyPatch) -> PolicySpec:
    sent = body.model_dump(include=body.model_fields_set - {"order", "targets"})
    changes = {
        name: value for name, value in sent.items() if value is not None or name in _CLEARABLE
    }
    spec = replace(management.policy_spec(policy), **_tuples(changes))
    return spec if body.targets is None else replace(spec, targets=_targets(body.targets))


def _tuples(fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON lists as the tuples `PolicySpec` holds."""
    return {name: tuple(v) if isinstance(v, list) else v for name, v in fields.items()}


def _given(value: T | None, current: T) -> T:
    """A PATCH field: None (absent or null) keeps what is there."""
    return current if value is None else value


@router.delete("/sla/policies/{policy_id}", response={204: None, **RESPONSES})
def delete_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Delete a policy; open cases take the targets of the next policy that matches."""
    agent = _manager(request)
    management.delete_policy(agent, _policy(policy_id))
    return HttpResponse(status=204)


# Calendars ---------------------------------------------------------------------------


def _calendar_out(calendar: BusinessCalendar) -> CalendarOut:
    return CalendarOut(
        id=calendar.pk, name=calendar.name, time_zone=calendar.time_zone,
        weekly_hours=calendar.weekly_hours, is_always_open=calendar.is_always_open,
        country=calendar.country, subdivision=calendar.subdivision,
        extra_closed_dates=calendar.extra_closed_dates,
    )  # fmt: skip


def _hours(hours: dict[str, list[tuple[str, str]]]) -> dict[str, list[list[str]]]:
    return {day: [[start, end] for start, end in openings] for day, openings in hours.items()}


@router.get("/sla/calendars", response={200: list[CalendarOut], **RESPONSES})
def list_calendars(request: HttpRequest) -> list[CalendarOut]:
    _manager(request)
    return [_calendar_out(calendar) for calendar in BusinessCalendar.objects.all()]


@router.post("/sla/calendars", response={201: CalendarOut, **RESPONSES})
def create_calendar(request: HttpRequest, body: CalendarIn) -> Status[CalendarOut]:
    agent = _manager(request)
    spec = CalendarSpec(
        name=body.name, time_zone=body.time_zone, weekly_hours=_hours(body.weekly_hours),
        is_always_open=body.is_always_open, country=body.country,
        subdivision=body.subdivision,
        extra_closed_dates=tuple(day.isoformat() for day in body.extra_closed_dates),
    )  # fmt: skip
    try:
        calendar = management.create_calendar(agent, spec)
    except SlaSettingsInvalidError as error:
        raise _invalid(error) from None
    return Status(201, _calendar_out(calendar))


@router.get("/sla/calendars/{calendar_id}", response={200: CalendarOut, **RESPONSES})
def get_calendar(request: HttpRequest, calendar_id: int) -> CalendarOut:
    _manager(request)
    return _calendar_out(get_object_or_404(BusinessCalendar, pk=calendar_id))


@router.patch("/sla/calendars/{calendar_id}", response={200: CalendarOut, **RESPONSES})
def update_calendar(request: HttpRequest, calendar_id: int, body: CalendarPatch) -> CalendarOut:
    """Change what is given; open cases whose clocks count in this calendar are recomputed."""
    agent = _manager(request)
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    closed = body.extra_closed_dates
    spec = CalendarSpec(
        name=_given(body.name, calendar.name),
        time_zone=_given(body.time_zone, calendar.time_zone),
        weekly_hours=(
            _hours(body.weekly_hours) if body.weekly_hours is not None else calendar.weekly_hours
        ),
        is_always_open=_given(body.is_always_open, calendar.is_always_open),
        country=_given(body.country, calendar.country),
        subdivision=_given(body.subdivision, calendar.subdivision),
        extra_closed_dates=(
            tuple(day.isoformat() for day in closed)
            if closed is not None
            else tuple(calendar.extra_closed_dates)
        ),
    )
    try:
        management.update_calendar(agent, calendar, spec)
    except SlaSettingsInvalidError as error:
        raise _invalid(error) from None
    return _calendar_out(calendar)


# Report ------------------------------------------------------------------------------


@router.get("/sla/report", response={200: list[ReportRowOut], **RESPONSES})
def report(request: HttpRequest, filters: Query[ReportQuery]) -> list[ReportRow]:
    """Achieved and breached cycles per ISO week, team, policy and metric."""
    _manager(request)
    if filters.starts_on and filters.ends_on and filters.starts_on > filters.ends_on:
        raise HttpError(422, "starts_on is after ends_on.")
    return sla_report(
        ReportFilters(
            team_id=filters.team_id,
            policy_id=filters.policy_id,
            starts_on=filters.starts_on,
            ends_on=filters.ends_on,
        )
    )
