"""Offset pages with a link to the next one, read with one extra row instead of a COUNT."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

RowT = TypeVar("RowT", bound=Model)


def page(request: HttpRequest, rows: QuerySet[RowT], *, limit: int, offset: int) -> dict[str, Any]:
    """Slice one page of `rows`; `next` is null on the last page.

    Counting every matching row would cost a scan on each request, so the page
    reads one row more than it shows to learn whether another page follows.
    """
    return page_of(request, list(rows[offset : offset + limit + 1]), limit=limit, offset=offset)


def page_of(
    request: HttpRequest, fetched: list[RowT], *, limit: int, offset: int
) -> dict[str, Any]:
    """Shape rows already read (up to `limit + 1` from `offset`) as one page."""
    if len(fetched) <= limit:
        return {"items": fetched, "next_offset": None, "next": None}
    next_offset = offset + limit
    query = request.GET.copy()
    query["offset"] = str(next_offset)
    return {
        "items": fetched[:limit],
        "next_offset": next_offset,
        "next": request.build_absolute_uri(f"{request.path}?{query.urlencode()}"),
    }
