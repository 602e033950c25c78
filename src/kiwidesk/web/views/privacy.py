"""A contact's export and erasure, and retention policies: administrators only."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kiwidesk.privacy import retention_policies
from kiwidesk.privacy.access import (
    SubjectNotFoundError,
    SubjectPurpose,
    SubjectRightsForbiddenError,
    access_subject,
)
from kiwidesk.privacy.models import RetentionPolicy
from kiwidesk.privacy.retention_policies import (
    RetentionForbiddenError,
    RetentionPolicyInvalidError,
)
from kiwidesk.privacy.subject_rights import erase_subject, export_subject
from kiwidesk.web.privacy_forms import ErasureForm, RetentionPolicyForm
from kiwidesk.web.views._common import agent_of, agent_required, forbidden


@require_GET
@agent_required
def export_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    try:
        document = export_subject(agent_of(request), contact_id)
    except SubjectRightsForbiddenError as refusal:
        return forbidden(request, str(refusal))
    except SubjectNotFoundError:
        return _no_contact(request, contact_id)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact_id}.json"'
    return response


@require_http_methods(["GET", "POST"])
@agent_required
def erase_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    agent = agent_of(request)
    form = ErasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            summary = erase_subject(agent, contact_id)
        except SubjectRightsForbiddenError as refusal:
            return forbidden(request, str(refusal))
        except SubjectNotFoundError:
            return _no_contact(request, contact_id)
        return render(
            request, "web/privacy/erased.html", {"contact_id": contact_id, "summary": summary}
        )
    try:
        # The confirmation page itself is a decision on this contact: audited when refused.
        contact = access_subject(agent, contact_id, SubjectPurpose.ERASE)
    except SubjectRightsForbiddenError as refusal:
        return forbidden(request, str(refusal))
    except SubjectNotFoundError:
        return _no_contact(request, contact_id)
    status = 400 if form.is_bound else 200
    return render(
        request, "web/privacy/erase.html", {"contact": contact, "form": form}, status=status
    )


def _no_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    return render(
        request, "web/forbidden.html", {"reason": f"No contact #{contact_id}."}, status=404
    )


@require_http_methods(["GET", "POST"])
@agent_required
def retention_policies_page(request: HttpRequest) -> HttpResponse:
    agent = agent_of(request)
    action = "retention.policy.create" if request.method == "POST" else "retention.policy.view"
    try:
        retention_policies.ensure_may_manage(agent, action)
    except RetentionForbiddenError as refusal:
        return forbidden(request, str(refusal))
    form = RetentionPolicyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            retention_policies.create_policy(agent, form.spec())
            return redirect("privacy:retention")
        except RetentionPolicyInvalidError as error:
            form.add_error(None, str(error))
    policies = RetentionPolicy.objects.select_related("organisation").order_by(
        "sensitivity", "organisation__name", "pk"
    )
    return render(
        request,
        "web/privacy/retention.html",
        {"policies": policies, "form": form},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@agent_required
def edit_retention_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    agent = agent_of(request)
    action = "retention.policy.update" if request.method == "POST" else "retention.policy.view"
    try:
        retention_policies.ensure_may_manage(agent, action)
    except RetentionForbiddenError as refusal:
        return forbidden(request, str(refusal))
    policy = get_object_or_404(RetentionPolicy, pk=policy_id)
    if request.method == "POST":
        form = RetentionPolicyForm(request.POST)
        if form.is_valid():
            try:
                retention_policies.update_policy(agent, policy, form.spec())
                return redirect("privacy:retention")
            except RetentionPolicyInvalidError as error:
                form.add_error(None, str(error))
    else:
        form = RetentionPolicyForm(initial=_initial(policy))
    return render(
        request,
        "web/privacy/retention_form.html",
        {"policy": policy, "form": form},
        status=400 if form.is_bound else 200,
    )


@require_POST
@agent_required
def delete_retention_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    agent = agent_of(request)
    try:
        retention_policies.ensure_may_manage(agent, "retention.policy.delete")
    except RetentionForbiddenError as refusal:
        return forbidden(request, str(refusal))
    retention_policies.delete_policy(agent, get_object_or_404(RetentionPolicy, pk=policy_id))
    return redirect("privacy:retention")


def _initial(policy: RetentionPolicy) -> dict[str, object]:
    return {
        "sensitivity": policy.sensitivity,
        "organisation": policy.organisation_id,
        "action": policy.action,
        "after_days": policy.after_days,
        "is_active": policy.is_active,
    }
