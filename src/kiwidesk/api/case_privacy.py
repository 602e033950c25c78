"""A case's private side: break-glass, revealing personal data, message sensitivity."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from kiwidesk.accounts.models import Agent
from kiwidesk.api.auth import current_agent
from kiwidesk.api.presenting import present_one
from kiwidesk.api.schemas import (
    ERRORS,
    BreakGlassIn,
    BreakGlassOut,
    Id,
    MessageOriginalOut,
    MessageOut,
    SensitivityIn,
)
from kiwidesk.cases import queries, services
from kiwidesk.cases.models import Case, Message
from kiwidesk.privacy import audit, break_glass
from kiwidesk.privacy.access import (
    Purpose,
    access_case,
    content_scope,
    ensure_cleared_for,
)
from kiwidesk.privacy.models import AuditOutcome, BreakGlassGrant

router = Router(tags=["privacy"])


@router.post(
    "/{case_id}/break-glass",
    response={201: BreakGlassOut, **ERRORS},
    summary="Open a case above your clearance",
)
def open_break_glass(
    request: HttpRequest, case_id: Id, body: BreakGlassIn
) -> Status[BreakGlassGrant]:
    """For a stated reason and 15, 30, 60 or 120 minutes; the case team's leads are told
    and the grant is on the case's timeline and in the audit log."""
    agent = current_agent(request)
    grant = break_glass.open_grant(agent, case_id, reason=body.reason, minutes=body.minutes)
    return Status(201, grant)


@router.delete(
    "/{case_id}/break-glass", response={204: None, **ERRORS}, summary="End your break-glass"
)
def end_break_glass(request: HttpRequest, case_id: Id) -> Status[None]:
    if not break_glass.end_grant(current_agent(request), case_id):
        raise HttpError(404, f"You have no break-glass open on case {case_id}.")
    return Status(204, None)


@router.get(
    "/{case_id}/messages/{message_id}/original",
    response={200: MessageOriginalOut, **ERRORS},
    summary="Reveal a message's personal data",
)
def reveal_message(request: HttpRequest, case_id: Id, message_id: Id) -> Message:
    """The message as written, with where its personal data is; every call is audited."""
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.REVEAL)
    message = _shown_message(agent, case, message_id)
    audit.record(agent, Purpose.REVEAL, "message", message.pk, AuditOutcome.GRANTED, "all")
    return message


@router.put(
    "/{case_id}/messages/{message_id}/sensitivity",
    response={200: MessageOut, **ERRORS},
    summary="Mark a message's sensitivity",
)
def mark_sensitivity(
    request: HttpRequest, case_id: Id, message_id: Id, body: SensitivityIn
) -> Message:
    """A clinical note on a normal case is withheld from agents not cleared for it."""
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.CHANGE)
    message = _shown_message(agent, case, message_id)
    ensure_cleared_for(agent, str(body.sensitivity))
    services.set_message_sensitivity(agent, message, str(body.sensitivity))
    return present_one(agent, case, queries.case_messages(case).get(pk=message.pk))


def _shown_message(agent: Agent, case: Case, message_id: Id) -> Message:
    message = Message.objects.filter(pk=message_id, case=case).first()
    if message is None or not content_scope(agent, case).shows(message.sensitivity):
        raise HttpError(404, f"Message {message_id} not found on case {case.pk}.")
    return message
