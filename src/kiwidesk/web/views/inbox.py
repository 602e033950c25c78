"""The inbox: views with their counts, filters, sorting and a page of cases."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Case
from kiwidesk.cases.queries import InboxFilters, InboxView, inbox_counts, inbox_page
from kiwidesk.privacy.access import visible_cases
from kiwidesk.web.forms import PAGE_SIZE, InboxFilterForm
from kiwidesk.web.views._common import HtmxHttpRequest, agent_of, agent_required


@dataclass(frozen=True)
class SidebarView:
    key: str
    label: str
    count: int | None
    is_current: bool
    url: str


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    number: int
    previous_url: str
    next_url: str


@agent_required
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    agent = agent_of(request)
    form = InboxFilterForm(request.GET or None, teams=_teams(), agents=_agents())
    is_valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and is_valid else InboxFilters()
    number = form.page_number() if form.is_bound and is_valid else 1
    visible = visible_cases(agent)
    context = {
        "form": form,
        "filters": filters,
        "view_label": InboxView.LABELS.get(filters.view, "All open"),
        "page": _page(visible, agent, filters, number),
        "case_base": case_base_url(),
    }
    status = 200 if is_valid else 400
    if request.htmx and not request.htmx.boosted:
        return render(request, "web/_case_list.html", context, status=status)
    # The counts scan every visible case, so they load in a second request (below) and
    # the first page of cases is never held up by them.
    context["sidebar"] = _sidebar({}, filters)
    return render(request, "web/inbox.html", context, status=status)


@agent_required
def inbox_counts_fragment(request: HttpRequest) -> HttpResponse:
    """The sidebar of views with their counts, which the inbox page fetches after loading."""
    agent = agent_of(request)
    view = request.GET.get("view", InboxView.OPEN)
    counts = inbox_counts(visible_cases(agent), agent)
    return render(
        request,
        "web/_sidebar.html",
        {"sidebar": _sidebar(counts, InboxFilters(view=view)), "has_counts": True},
    )


def _page(visible: QuerySet[Case], agent: Agent, filters: InboxFilters, number: int) -> CasePage:
    # One row more than the page says whether a next page exists, without a COUNT(*).
    rows = inbox_page(visible, agent, filters, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    return CasePage(
        cases=rows[:PAGE_SIZE],
        number=number,
        previous_url=_url(filters, number - 1) if number > 1 else "",
        next_url=_url(filters, number + 1) if len(rows) > PAGE_SIZE else "",
    )


def case_base_url() -> str:
    """The case URL without its id: one reverse() per page instead of one per row."""
    return reverse("web:case", kwargs={"case_id": 0}).removesuffix("0/")


def _url(filters: InboxFilters, number: int) -> str:
    query = filters.as_query()
    if number > 1:
        query["page"] = number
    return "?" + urlencode(query) if query else "?"


def _sidebar(counts: dict[str, int], filters: InboxFilters) -> list[SidebarView]:
    return [
        SidebarView(
            key=key,
            label=label,
            count=counts.get(key),
            is_current=key == filters.view,
            url="?" + urlencode({"view": key}),
        )
        for key, label in InboxView.LABELS.items()
        if key != InboxView.ALL
    ]


def _teams() -> list[Team]:
    return list(Team.objects.only("id", "name"))


def _agents() -> list[Agent]:
    return list(Agent.objects.filter(is_active=True).only("id", "name", "email"))
