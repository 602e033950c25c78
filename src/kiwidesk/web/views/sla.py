"""SLA policies, business calendars and the SLA report: screens for leads and admins."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

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


@lead_required
def policies(request: HttpRequest) -> HttpResponse:
    ordered = list(
        Policy.objects.select_related("calendar")
        .prefetch_related("targets")
        .order_by("position", "id")
    )
    return render(request, "web/sla/policies.html", {"policies": ordered})


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
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(policy))
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
    for message in error.messages:
        form.add_error(None, message)
