"""Cases: the inbox, opening, reading, changing, merging; threads, messages, notes, timeline."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from kiwidesk.accounts.models import Agent
from kiwidesk.api import lookups
from kiwidesk.api.auth import current_agent
from kiwidesk.api.case_privacy import router as case_privacy_router
from kiwidesk.api.pagination import page_of
from kiwidesk.api.presenting import present, present_one
from kiwidesk.api.schemas import (
    ERRORS,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePage,
    CasePatch,
    ErrorOut,
    EventOut,
    MergeIn,
    MessageOut,
    NoteIn,
    ThreadIn,
    ThreadOut,
)
from kiwidesk.cases import queries, services
from kiwidesk.cases.models import Case, Event, Message, Thread
from kiwidesk.cases.services import CaseChanges
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.access import Purpose, access_case, ensure_cleared_for, visible_cases

router = Router(tags=["cases"])
router.add_router("", case_privacy_router)


def _filters(query: CaseListQuery) -> queries.InboxFilters:
    assignee = None
    if query.assignee is not None:
        assignee = 0 if query.assignee == "none" else int(query.assignee)
    return queries.InboxFilters(
        view=query.view,
        status=str(query.status or ""),
        priority=str(query.priority or ""),
        team=query.team,
        assignee=assignee,
        tag=query.tag or "",
        channel=str(query.channel or ""),
        sensitivity=str(query.sensitivity or ""),
        q=query.q,
        sort=query.sort,
    )


def _case(agent: Agent, case_id: int) -> Case:
    """The case with what CaseOut shows; the caller has already passed the gate."""
    case = queries.case_for_page(visible_cases(agent), case_id)
    if case is None:
        # The gate let the caller in moments ago; only a concurrent change of the
        # case's sensitivity by someone else lands here.
        raise HttpError(404, f"Case {case_id} not found.")
    return case


def _message(agent: Agent, case: Case, message: Message) -> Message:
    return present_one(agent, case, queries.case_messages(case).get(pk=message.pk))


@router.get("", response={200: CasePage, **ERRORS}, summary="List cases (the inbox)")
def list_cases(request: HttpRequest, query: Query[CaseListQuery]) -> dict[str, Any]:
    agent = current_agent(request)
    rows = queries.inbox_page(
        visible_cases(agent), agent, _filters(query), offset=query.offset, limit=query.limit + 1
    )
    prefetch_related_objects(rows, "tags")
    return page_of(request, rows, limit=query.limit, offset=query.offset)


@router.post("", response={201: CaseOut, 403: ErrorOut, **ERRORS}, summary="Open a case")
def create_case(request: HttpRequest, body: CaseIn) -> Status[Case]:
    agent = current_agent(request)
    ensure_cleared_for(agent, str(body.sensitivity))
    # The customer found or created here must not outlive a case that fails to open.
    with transaction.atomic():
        case = _open_case(agent, body)
    return Status(201, _case(agent, case.pk))


def _open_case(agent: Agent, body: CaseIn) -> Case:
    return services.open_case(
        agent,
        customer=lookups.customer(body.customer),
        subject=body.subject,
        message_text=body.message,
        message_html=body.html,
        channel=str(body.channel),
        priority=str(body.priority),
        category=body.category,
        sensitivity=str(body.sensitivity),
        team=lookups.team_or_none(body.team),
        assignee=lookups.agent_or_none(body.assignee),
        tags=body.tags,
        attachments=[attachment.as_new_attachment() for attachment in body.attachments],
    )


@router.get("/{case_id}", response={200: CaseOut, **ERRORS}, summary="Read a case")
def get_case(request: HttpRequest, case_id: int) -> Case:
    agent = current_agent(request)
    access_case(agent, case_id, Purpose.VIEW)
    return _case(agent, case_id)


def _changes(body: CasePatch) -> CaseChanges:
    sent = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {
        field: str(value) if field in ("status", "priority", "sensitivity") else value
        for field, value in sent.items()
    }
    if "assignee" in sent:
        changes["assignee"] = lookups.agent_or_none(sent["assignee"])
    if "team" in sent:
        changes["team"] = lookups.team_or_none(sent["team"])
    typed: CaseChanges = CaseChanges(**changes)  # type: ignore[typeddict-item]
    return typed


@router.patch(
    "/{case_id}", response={200: CaseOut, 403: ErrorOut, **ERRORS}, summary="Change a case"
)
def update_case(request: HttpRequest, case_id: int, body: CasePatch) -> Case:
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.CHANGE)
    if body.sensitivity is not None:
        ensure_cleared_for(agent, str(body.sensitivity))
    changes = _changes(body)
    if changes:
        services.update_case(agent, case, changes)
    return _case(agent, case_id)


@router.post("/{case_id}/merge", response={200: CaseOut, **ERRORS}, summary="Merge into another")
def merge_case(request: HttpRequest, case_id: int, body: MergeIn) -> Case:
    """Merge this case into `into`, which keeps every thread and message; answer with `into`."""
    agent = current_agent(request)
    source = access_case(agent, case_id, Purpose.MERGE)
    target = access_case(agent, body.into, Purpose.MERGE)
    merged = services.merge_cases(agent, source=source, target=target)
    return _case(agent, merged.pk)


@router.get("/{case_id}/messages", response={200: list[MessageOut], **ERRORS})
def list_messages(request: HttpRequest, case_id: int) -> list[Message]:
    """Every message of the case, on every thread, oldest first."""
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.VIEW)
    return present(agent, case, queries.case_messages(case))


@router.get("/{case_id}/threads", response={200: list[ThreadOut], **ERRORS})
def list_threads(request: HttpRequest, case_id: int) -> list[Thread]:
    case = access_case(current_agent(request), case_id, Purpose.VIEW)
    return queries.case_threads(case)


@router.post("/{case_id}/threads", response={201: ThreadOut, **ERRORS})
def start_thread(request: HttpRequest, case_id: int, body: ThreadIn) -> Status[Thread]:
    """Start a conversation with a third party: a known contact by id, or a new one by address."""
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.REPLY)
    # Opened after the gate, so the audit record stays even if the thread fails;
    # a party created here must not outlive a thread that fails to open.
    with transaction.atomic():
        party = _party(body)
        channel = str(body.channel) if body.channel else lookups.channel_for(party)
        thread = services.open_thread(
            agent, case, contact=party, channel=channel, subject=body.subject
        )
    return Status(201, thread)


def _party(body: ThreadIn) -> Contact:
    if body.contact_id is not None:
        return lookups.contact(body.contact_id)
    assert body.contact is not None  # noqa: S101 - ThreadIn requires one of the two
    return lookups.party(body.contact)


@router.post("/{case_id}/notes", response={201: MessageOut, **ERRORS})
def add_note(request: HttpRequest, case_id: int, body: NoteIn) -> Status[Message]:
    """Add an internal note, which agents see and the customer never does."""
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.NOTE)
    ensure_cleared_for(agent, str(body.sensitivity))
    note = services.add_note(
        agent,
        case,
        text=body.text,
        attachments=[attachment.as_new_attachment() for attachment in body.attachments],
        sensitivity=str(body.sensitivity),
    )
    return Status(201, _message(agent, case, note))


@router.get("/{case_id}/events", response={200: list[EventOut], **ERRORS})
def list_events(request: HttpRequest, case_id: int) -> list[Event]:
    """The timeline: every event of the case and of the cases merged into it, oldest first."""
    case = access_case(current_agent(request), case_id, Purpose.VIEW)
    return list(queries.case_timeline(case))
