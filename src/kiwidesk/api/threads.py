"""Threads: writing to the party of one conversation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from kiwidesk.accounts.models import Agent
from kiwidesk.api.auth import current_agent
from kiwidesk.api.errors import ThreadNotFoundError
from kiwidesk.api.presenting import present_one
from kiwidesk.api.schemas import ERRORS, MessageIn, MessageOut
from kiwidesk.cases import queries, services
from kiwidesk.cases.models import Case, Message, Party, Thread
from kiwidesk.privacy.access import (
    CaseNotFoundError,
    ClearanceRequiredError,
    Purpose,
    access_case,
)
from kiwidesk.privacy.disclosure import check_disclosure, record_disclosure

router = Router(tags=["threads"])


@router.post("/{thread_id}/messages", response={201: MessageOut, **ERRORS})
def reply(request: HttpRequest, thread_id: int, body: MessageIn) -> Status[Message]:
    """Write to the thread's party; the message waits as pending until its channel sends it."""
    agent = current_agent(request)
    thread, case = thread_to_write(agent, thread_id)
    if thread.party == Party.INTERNAL:
        raise HttpError(422, "The internal thread has no party to write to; add a note instead.")
    confirmed = check_disclosure(thread, body.text, confirmed=body.confirm_pii)
    message = services.reply(
        agent,
        thread,
        text=body.text,
        html=body.html,
        attachments=[attachment.as_new_attachment() for attachment in body.attachments],
    )
    record_disclosure(agent, thread, confirmed)
    return Status(201, present_one(agent, case, queries.case_messages(case).get(pk=message.pk)))


def thread_to_write(agent: Agent, thread_id: int) -> tuple[Thread, Case]:
    """The thread and its case, if the agent may write on it; else ThreadNotFoundError."""
    thread = Thread.objects.filter(pk=thread_id).first()
    if thread is None:
        raise ThreadNotFoundError(thread_id)
    try:
        case = access_case(agent, thread.case_id, Purpose.REPLY)
    except ClearanceRequiredError:
        raise
    except CaseNotFoundError:
        # Answer about the thread asked for: naming its case would tell a refused
        # caller that the thread exists, and where.
        raise ThreadNotFoundError(thread_id) from None
    return thread, case
