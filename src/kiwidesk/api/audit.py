"""The audit log, for administrators: a filtered page, and the whole selection as JSON Lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from kiwidesk.api.auth import current_agent
from kiwidesk.api.schemas import ERRORS, ErrorOut
from kiwidesk.privacy.audit import (
    AuditFilters,
    AuditLogForbiddenError,
    AuditPurpose,
    access_audit_log,
    audit_page,
    export_lines,
)

router = Router(tags=["audit"])
RESPONSES = {403: ErrorOut, **ERRORS}
MAX_LIMIT = 500


class AuditQuery(Schema):
    actor: str = Field("", max_length=254, description="The actor's email address, exactly.")
    action: str = Field("", max_length=40, description="e.g. case.view or sla.policy.update.")
    object_type: str = Field("", max_length=40, description="e.g. case or sla_policy.")
    object_id: str = Field("", max_length=40)
    since: date | None = Field(None, description="From this UTC day on.")
    until: date | None = Field(None, description="Up to and including this UTC day.")


class AuditPageQuery(AuditQuery):
    before: int | None = Field(None, ge=1, description="`next_before` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class AuditRecordOut(Schema):
    sequence: int
    created_at: datetime
    actor_id: int | None
    actor: str = Field(alias="actor_label")
    action: str
    object_type: str
    object_id: str
    outcome: str
    reason: str
    digest: str


class AuditPageOut(Schema):
    items: list[AuditRecordOut]
    next_before: int | None = Field(description="Pass as `before` for the next page; null: last.")


@router.get("/audit", response={200: AuditPageOut, **RESPONSES}, summary="Read the audit log")
def list_audit_records(request: HttpRequest, query: Query[AuditPageQuery]) -> dict[str, Any]:
    """Records newest first; reading the log is itself recorded."""
    filters = _filters(query)
    _admit(request, AuditPurpose.VIEW, filters)
    records, next_before = audit_page(filters, before=query.before, limit=query.limit)
    return {"items": records, "next_before": next_before}


@router.get(
    "/audit/export",
    response={200: None, **RESPONSES},
    summary="Export the audit log as JSON Lines",
)
def export_audit_records(request: HttpRequest, query: Query[AuditQuery]) -> StreamingHttpResponse:
    """Every matching record, oldest first, one JSON object a line, streamed."""
    filters = _filters(query)
    _admit(request, AuditPurpose.EXPORT, filters)
    response = StreamingHttpResponse(export_lines(filters), content_type="application/jsonl")
    response["Content-Disposition"] = 'attachment; filename="audit-log.jsonl"'
    return response


def _filters(query: AuditQuery) -> AuditFilters:
    if query.since and query.until and query.since > query.until:
        raise HttpError(422, "since is after until.")
    return AuditFilters(
        actor=query.actor.strip(),
        action=query.action.strip(),
        object_type=query.object_type.strip(),
        object_id=query.object_id.strip(),
        since=query.since,
        until=query.until,
    )


def _admit(request: HttpRequest, purpose: str, filters: AuditFilters) -> None:
    try:
        access_audit_log(current_agent(request), purpose, filters)
    except AuditLogForbiddenError as error:
        raise HttpError(403, str(error)) from None
