"""The audit log screen and its JSON Lines export: administrators only, others get a 403."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from kiwidesk.privacy.audit import (
    AuditFilters,
    AuditLogForbiddenError,
    AuditPurpose,
    access_audit_log,
    audit_page,
    export_lines,
)
from kiwidesk.web.views._common import agent_of, agent_required

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor (email)", max_length=254, required=False)
    action = forms.CharField(max_length=40, required=False)
    object_type = forms.CharField(label="Object type", max_length=40, required=False)
    object_id = forms.CharField(label="Object id", max_length=40, required=False)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The range ends before it starts.")
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            actor=data["actor"],
            action=data["action"],
            object_type=data["object_type"],
            object_id=data["object_id"],
            since=data["since"],
            until=data["until"],
        )


@agent_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.filters() if form.is_valid() else AuditFilters()
    _admit(request, AuditPurpose.VIEW, filters)
    if not form.is_valid():
        return render(request, "web/audit.html", {"form": form, "records": [], "next": ""})
    records, next_before = audit_page(filters, before=form.cleaned_data["before"], limit=PAGE_SIZE)
    return render(
        request,
        "web/audit.html",
        {"form": form, "records": records, "next": _query(request, before=next_before)},
    )


@agent_required
def export_audit_log(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.filters() if form.is_valid() else AuditFilters()
    _admit(request, AuditPurpose.EXPORT, filters)
    if not form.is_valid():
        return render(
            request, "web/audit.html", {"form": form, "records": [], "next": ""}, status=400
        )
    response = StreamingHttpResponse(export_lines(filters), content_type="application/jsonl")
    response["Content-Disposition"] = 'attachment; filename="audit-log.jsonl"'
    return response


def _admit(request: HttpRequest, purpose: str, filters: AuditFilters) -> None:
    try:
        access_audit_log(agent_of(request), purpose, filters)
    except AuditLogForbiddenError as error:
        raise PermissionDenied(str(error)) from None


def _query(request: HttpRequest, *, before: int | None) -> str:
    if before is None:
        return ""
    query = request.GET.copy()
    query["before"] = str(before)
    return query.urlencode()
