"""SLA policies, business calendars and the SLA report: screens for leads and admins."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Priority
from kiwidesk.sla import management
from kiwidesk.sla.management import SlaSettingsInvalidError, TargetSpec
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import BusinessCalendar, Policy
from kiwidesk.sla.reports import ReportFilters, sla_report
from kiwidesk.web.sla_forms import WEEKDAYS, CalendarForm, PolicyForm, ReportFilterForm
from kiwidesk.web.views._common import View, agent_of, agent_required


def lead_required(view: View) -> View:
    """Let through only support leads and admins; other agents get a 403."""

    @agent_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not management.may_manage(agent_of(request)):
            raise PermissionDenied("Only support leads and administrators manage SLAs.")
        return view(request, *args, **kwargs)

    return wrapped


# Policies ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyRow:
    policy: Policy
    actions: str


@lead_required
def policies(request: HttpRequest) -> HttpResponse:
    ordered = list(
        Policy.objects.select_related(
            "calendar", "warning_team", "warning_assignee", "breach_team", "breach_assignee"
        )
        .prefetch_related("targets")
        .order_by("position", "id")
    )
    rows = [PolicyRow(policy, actions_summary(policy)) for policy in ordered]
    return render(request, "web/sla/policies.html", {"policies": ordered, "rows": rows})


def actions_summary(policy: Policy) -> str:
    """What the policy does, in a line: "warns 30 min before; on breach: notify, +priority"."""
    escalation = escalation_words(policy)
    parts = [
        *([f"warns {policy.warn_minutes_before} min before"] if policy.warn_minutes_before else []),
        *([f"on warning: {escalation.warning}"] if escalation.warning else []),
        *([f"on breach: {escalation.breach}"] if escalation.breach else []),
        *([_follow_ups(policy)] if _has_follow_up_target(policy) else []),
    ]
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class EscalationWords:
    warning: str
    breach: str


def escalation_words(policy: Policy) -> EscalationWords:
    return EscalationWords(
        warning=_actions(
            policy.warning_notifies, policy.warning_raises_priority,
            policy.warning_team, policy.warning_assignee, policy.warning_tag,
        ),
        breach=_actions(
            policy.breach_notifies, policy.breach_raises_priority,
            policy.breach_team, policy.breach_assignee, policy.breach_tag,
        ),
    )  # fmt: skip


def _actions(
    notifies: bool, raises_priority: bool, team: Team | None, assignee: Agent | None, tag: str
) -> str:
    words = [
        *(["notify"] if notifies else []),
        *(["+priority"] if raises_priority else []),
        *([f"move to {team}"] if team else []),
        *([f"assign to {assignee}"] if assignee else []),
        *([f"add tag {tag}"] if tag else []),
    ]
    return ", ".join(words)


def _has_follow_up_target(policy: Policy) -> bool:
    return any(target.metric == Metric.FOLLOW_UP for target in policy.targets.all())


def _follow_ups(policy: Policy) -> str:
    then = ", then solve" if policy.solves_after_follow_ups else ""
    return f"at most {policy.follow_up_limit} reminders{then}"


@lead_required
def new_policy(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = management.create_policy(agent_of(request), form.spec())
        except SlaSettingsInvalidError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Policy “{policy.name}” created.")
            return redirect("web:sla_policies")
    return _policy_page(request, form, None)


@lead_required
def edit_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=policy_id)
    form = PolicyForm(
        request.POST or None,
        initial=PolicyForm.initial_for(policy),
        kept_ids=[pk for pk in (policy.warning_assignee_id, policy.breach_assignee_id) if pk],
    )
    if request.method == "POST" and form.is_valid():
        try:
            spec = form.spec(_third_party_targets(policy))
            management.update_policy(agent_of(request), policy, spec)
        except SlaSettingsInvalidError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Policy “{policy.name}” saved.")
            return redirect("web:sla_policies")
    return _policy_page(request, form, policy)


def _third_party_targets(policy: Policy) -> tuple[TargetSpec, ...]:
    """A third party's own targets, kept as they are: the grid shows the general ones."""
    return tuple(
        TargetSpec(Metric(t.metric), t.priority, t.minutes, t.is_business_time, t.organisation_id)
        for t in policy.targets.filter(organisation__isnull=False)
    )


def _policy_page(request: HttpRequest, form: PolicyForm, policy: Policy | None) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "policy": policy, "priorities": Priority.labels}
    return render(request, "web/sla/policy_form.html", context, status=status)


@require_POST
@lead_required
def move_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=policy_id)
    step = -1 if request.POST.get("direction") == "up" else 1
    index = management.policy_index(policy) + step
    management.move_policy(agent_of(request), policy, to_index=max(index, 0))
    return redirect("web:sla_policies")


@require_POST
@lead_required
def delete_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=policy_id)
    management.delete_policy(agent_of(request), policy)
    messages.success(request, f"Policy “{policy.name}” deleted.")
    return redirect("web:sla_policies")


# Calendars ---------------------------------------------------------------------------


@lead_required
def calendars(request: HttpRequest) -> HttpResponse:
    context = {"calendars": BusinessCalendar.objects.all(), "weekdays": WEEKDAYS}
    return render(request, "web/sla/calendars.html", context)


@lead_required
def new_calendar(request: HttpRequest) -> HttpResponse:
    form = CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = management.create_calendar(agent_of(request), form.spec())
        except SlaSettingsInvalidError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Calendar “{calendar.name}” created.")
            return redirect("web:sla_calendars")
    return _calendar_page(request, form, None)


@lead_required
def edit_calendar(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    form = CalendarForm(request.POST or None, initial=CalendarForm.initial_for(calendar))
    if request.method == "POST" and form.is_valid():
        try:
            management.update_calendar(agent_of(request), calendar, form.spec())
        except SlaSettingsInvalidError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Calendar “{calendar.name}” saved.")
            return redirect("web:sla_calendars")
    return _calendar_page(request, form, calendar)


def _calendar_page(
    request: HttpRequest, form: CalendarForm, calendar: BusinessCalendar | None
) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "calendar": calendar}
    return render(request, "web/sla/calendar_form.html", context, status=status)


# Report ------------------------------------------------------------------------------


@lead_required
def report(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET or None)
    is_valid = form.is_valid() if form.is_bound else True
    rows = sla_report(form.filters() if form.is_bound and is_valid else ReportFilters())
    status = 200 if is_valid else 400
    context = {"form": form, "rows": rows if is_valid else []}
    return render(request, "web/sla/report.html", context, status=status)


def _add_errors(form: PolicyForm | CalendarForm, error: SlaSettingsInvalidError) -> None:
    """Show each message by the field it concerns, the others above the form."""
    for message in error.general:
        form.add_error(None, message)
    for name, texts in error.by_field.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
