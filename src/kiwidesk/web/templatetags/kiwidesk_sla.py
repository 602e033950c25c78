"""Words and instants for the SLA clocks panel of the case page."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def iso_instant(instant: datetime | None) -> str:
    """An instant in UTC as ISO 8601 ("2026-03-02T09:30:00Z"), for `<time>` and the browser."""
    if instant is None:
        return ""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
