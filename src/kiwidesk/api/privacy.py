"""A contact's export and erasure, and retention policies: administrators only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from kiwidesk.accounts.models import Agent
from kiwidesk.api.auth import current_agent
from kiwidesk.api.schemas import ERRORS, ErrorOut
from kiwidesk.privacy import retention_policies
from kiwidesk.privacy.access import SubjectNotFoundError, SubjectRightsForbiddenError
from kiwidesk.privacy.models import RetentionPolicy
from kiwidesk.privacy.retention_policies import (
    PolicySpec,
    RetentionForbiddenError,
    RetentionPolicyInvalidError,
)
from kiwidesk.privacy.subject_rights import erase_subject, export_subject

router = Router(tags=["privacy"])
RESPONSES = {403: ErrorOut, **ERRORS}


class ErasureIn(Schema):
    confirm: bool = Field(description="Must be true: an erasure cannot be undone.")


class ErasureOut(Schema):
    contact_id: int
    cases: int
    messages: int
    attachments: int
    calls: int
    events: int
    files: int
    raw_payloads: int
    channel_rows: int
    mentions: int


class RetentionPolicyIn(Schema):
    sensitivity: str = Field(description="normal, confidential or clinical.", max_length=12)
    organisation_id: int | None = Field(None, description="Empty: any organisation.")
    action: str = Field(description="anonymise or delete.", max_length=10)
    after_days: int = Field(ge=1, le=retention_policies.MAX_DAYS)
    is_active: bool = True


class RetentionPolicyOut(Schema):
    id: int
    sensitivity: str
    organisation_id: int | None
    action: str
    after_days: int
    is_active: bool
    created_at: datetime
    updated_at: datetime


@router.get(
    "/privacy/contacts/{contact_id}/export",
    response={200: dict[str, Any], **RESPONSES},
    summary="Export everything held about a contact",
)
def export_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """One JSON document (docs/retention.md describes it); attachments base64-encoded."""
    try:
        document = export_subject(current_agent(request), contact_id)
    except SubjectRightsForbiddenError as error:
        raise HttpError(403, str(error)) from None
    except SubjectNotFoundError as error:
        raise HttpError(404, str(error)) from None
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="contact-{contact_id}.json"'
    return response


@router.post(
    "/privacy/contacts/{contact_id}/erase",
    response={200: ErasureOut, **RESPONSES},
    summary="Erase a contact's personal data",
)
def erase_contact(request: HttpRequest, contact_id: int, body: ErasureIn) -> ErasureOut:
    """Replace the contact's details, messages, files, calls and chats everywhere."""
    agent = current_agent(request)
    if not body.confirm:
        raise HttpError(422, "Set confirm to true: an erasure cannot be undone.")
    try:
        summary = erase_subject(agent, contact_id)
    except SubjectRightsForbiddenError as error:
        raise HttpError(403, str(error)) from None
    except SubjectNotFoundError as error:
        raise HttpError(404, str(error)) from None
    return ErasureOut(contact_id=contact_id, **vars(summary))


def _admin(request: HttpRequest, action: str = "retention.policy.view") -> Agent:
    agent = current_agent(request)
    try:
        retention_policies.ensure_may_manage(agent, action)
    except RetentionForbiddenError as error:
        raise HttpError(403, str(error)) from None
    return agent


def _spec(body: RetentionPolicyIn) -> PolicySpec:
    return PolicySpec(
        sensitivity=body.sensitivity,
        action=body.action,
        after_days=body.after_days,
        organisation_id=body.organisation_id,
        is_active=body.is_active,
    )


@router.get("/privacy/retention-policies", response={200: list[RetentionPolicyOut], **RESPONSES})
def list_retention_policies(request: HttpRequest) -> list[RetentionPolicy]:
    _admin(request)
    return list(RetentionPolicy.objects.order_by("sensitivity", "organisation_id", "pk"))


@router.post("/privacy/retention-policies", response={201: RetentionPolicyOut, **RESPONSES})
def create_retention_policy(
    request: HttpRequest, body: RetentionPolicyIn
) -> Status[RetentionPolicy]:
    agent = _admin(request, "retention.policy.create")
    try:
        policy = retention_policies.create_policy(agent, _spec(body))
    except RetentionPolicyInvalidError as error:
        raise HttpError(422, str(error)) from None
    return Status(201, policy)


@router.get(
    "/privacy/retention-policies/{policy_id}", response={200: RetentionPolicyOut, **RESPONSES}
)
def get_retention_policy(request: HttpRequest, policy_id: int) -> RetentionPolicy:
    _admin(request)
    return get_object_or_404(RetentionPolicy, pk=policy_id)


@router.put(
    "/privacy/retention-policies/{policy_id}", response={200: RetentionPolicyOut, **RESPONSES}
)
def update_retention_policy(
    request: HttpRequest, policy_id: int, body: RetentionPolicyIn
) -> RetentionPolicy:
    agent = _admin(request, "retention.policy.update")
    policy = get_object_or_404(RetentionPolicy, pk=policy_id)
    try:
        return retention_policies.update_policy(agent, policy, _spec(body))
    except RetentionPolicyInvalidError as error:
        raise HttpError(422, str(error)) from None


@router.delete("/privacy/retention-policies/{policy_id}", response={204: None, **RESPONSES})
def delete_retention_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    agent = _admin(request, "retention.policy.delete")
    retention_policies.delete_policy(agent, get_object_or_404(RetentionPolicy, pk=policy_id))
    return HttpResponse(status=204)
