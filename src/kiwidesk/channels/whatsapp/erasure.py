"""The template parameters of WhatsApp messages, for privacy's export and erasure."""

from __future__ import annotations

from typing import Any

from kiwidesk.channels.whatsapp.models import TemplateMessage
from kiwidesk.privacy import registry
from kiwidesk.privacy.erasure import chunked
from kiwidesk.privacy.registry import ERASED, ErasureScope

NAME = "whatsapp"


def register() -> None:
    registry.register(NAME, erase=erase, export=export)


def erase(scope: ErasureScope) -> int:
    """Replace each parameter (names, dates, booking numbers) of the scope's templates."""
    count = 0
    for chunk in chunked(scope.message_ids):
        for sent in TemplateMessage.objects.filter(message_id__in=chunk):
            sent.parameters = [ERASED for _ in sent.parameters]
            sent.save(update_fields=["parameters"])
            count += 1
    return count


def export(scope: ErasureScope) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for chunk in chunked(scope.message_ids):
        for sent in TemplateMessage.objects.filter(message_id__in=chunk).select_related("template"):
            rows.append(
                {
                    "message_id": sent.message_id,
                    "template": sent.template.name,
                    "language": sent.template.language,
                    "parameters": sent.parameters,
                }
            )
    return {"whatsapp_templates": rows}
