"""Words for calls on the case page: durations and the number a call form starts with."""

from __future__ import annotations

from django import template
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

from kiwidesk.cases.models import CallOutcome
from kiwidesk.cases.queries import number_on_file
from kiwidesk.contacts.models import Contact
from kiwidesk.pii import detect
from kiwidesk.pii.redaction import redact

register = template.Library()


@register.filter
def call_duration(seconds: int) -> str:
    """Seconds as minutes:seconds (hours:minutes:seconds from an hour), e.g. 4:05."""
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minute:02d}:{second:02d}"
    return f"{minute}:{second:02d}"


@register.filter
def masked_transcript(text: str) -> SafeString:
    """The transcript with its personal data masked (scanned as it is shown: they are short)."""
    return mark_safe(linebreaks(redact(text, detect(text)), autoescape=True))  # noqa: S308


@register.filter
def phone_on_file(contact: Contact | None) -> str:
    """The number a call with this contact is made on, for the form to start with."""
    return number_on_file(contact)


@register.simple_tag
def call_outcomes() -> list[tuple[str, str]]:
    return list(CallOutcome.choices)
