"""WhatsApp templates: the approved messages, and writing one to a customer."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from kiwidesk.api.auth import current_agent
from kiwidesk.api.presenting import present_one
from kiwidesk.api.schemas import ERRORS, Id, MessageOut
from kiwidesk.api.threads import thread_to_write
from kiwidesk.cases import queries
from kiwidesk.cases.models import Message
from kiwidesk.channels.whatsapp.models import MessageTemplate
from kiwidesk.channels.whatsapp.templates import (
    MAX_PARAMETER_LENGTH,
    active_templates,
    send_template,
)

router = Router(tags=["whatsapp"])


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    body: str
    parameter_count: int


class TemplateMessageIn(Schema):
    template_id: Id
    parameters: list[str] = Field(default=[], max_length=20)


@router.get("/whatsapp/templates", response={200: list[TemplateOut], **ERRORS})
def templates(request: HttpRequest) -> QuerySet[MessageTemplate]:
    """The approved templates agents may send (the only messages allowed outside the window)."""
    current_agent(request)
    return active_templates()


@router.post("/threads/{thread_id}/whatsapp-template", response={201: MessageOut, **ERRORS})
def write_template(
    request: HttpRequest, thread_id: int, body: TemplateMessageIn
) -> Status[Message]:
    """Write an approved template to the thread's WhatsApp customer, window open or not."""
    agent = current_agent(request)
    thread, case = thread_to_write(agent, thread_id)
    template = active_templates().filter(pk=body.template_id).first()
    if template is None:
        raise HttpError(422, f"There is no template {body.template_id} in use.")
    if any(len(value) > MAX_PARAMETER_LENGTH for value in body.parameters):
        raise HttpError(422, f"A parameter is longer than {MAX_PARAMETER_LENGTH} characters.")
    message = send_template(agent, thread, template, body.parameters)
    return Status(201, present_one(agent, case, queries.case_messages(case).get(pk=message.pk)))
