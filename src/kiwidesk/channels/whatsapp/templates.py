"""Writing to a WhatsApp customer with an approved template, inside or outside the window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.models import Channel, Message, Thread
from kiwidesk.channels.whatsapp.adapter import Template
from kiwidesk.channels.whatsapp.models import PLACEHOLDER, MessageTemplate, TemplateMessage

# Meta's limit on one body parameter.
MAX_PARAMETER_LENGTH = 1024


class TemplateRefusedError(ValueError):
    """The template cannot be sent like this; the message says what to change."""


def active_templates() -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(is_active=True)


def render(template: MessageTemplate, parameters: Sequence[str]) -> str:
    """The text the customer will read: the body with its parameters filled in."""
    wanted = template.parameter_count
    if len(parameters) != wanted:
        raise TemplateRefusedError(
            f"The template {template.name} takes {wanted} parameter(s); {len(parameters)} given."
        )
    for number, value in enumerate(parameters, start=1):
        if not value.strip():
            raise TemplateRefusedError(f"Parameter {number} of {template.name} is empty.")
        if len(value) > MAX_PARAMETER_LENGTH:
            raise TemplateRefusedError(
                f"Parameter {number} is longer than WhatsApp allows ({MAX_PARAMETER_LENGTH})."
            )
    return PLACEHOLDER.sub(lambda match: parameters[int(match.group(1)) - 1], template.body)


@transaction.atomic
def send_template(
    actor: Agent,
    thread: Thread,
    template: MessageTemplate,
    parameters: Sequence[str],
    *,
    at: datetime | None = None,
) -> Message:
    """Write `template` to the thread's customer; allowed whenever the window is closed.

    The stored message holds the text as the customer reads it; the outbox sends it
    as the template (`template_of`), which is what WhatsApp accepts.
    """
    if thread.channel != Channel.WHATSAPP:
        raise TemplateRefusedError("Templates are for WhatsApp threads only.")
    if not template.is_active:
        raise TemplateRefusedError(f"The template {template} is no longer in use.")
    text = render(template, parameters)
    message = services.reply(actor, thread, text=text, at=at, preapproved=True)
    TemplateMessage.objects.create(message=message, template=template, parameters=list(parameters))
    return message


def template_of(message: Message) -> Template | None:
    """The Cloud API template a stored message is to be sent as, if it was written as one."""
    use = TemplateMessage.objects.select_related("template").filter(message=message).first()
    if use is None:
        return None
    components: tuple[dict[str, object], ...] = ()
    if use.parameters:
        values = [{"type": "text", "text": str(value)} for value in use.parameters]
        components = ({"type": "body", "parameters": values},)
    return Template(use.template.name, use.template.language, components)
