"""Reads shared by the web UI and the API: inbox views, filters, counts, a case's timeline."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, fields
from itertools import islice
from typing import Any

from django.db.models import Case as Conditional
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    PENDING_STATUSES,
    PRIORITY_RANK,
    UNREACHED_OUTCOMES,
    Call,
    Case,
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    Message,
    Status,
    Thread,
)
from kiwidesk.contacts.models import Contact, IdentityKind


class InboxView:
    """The named inbox views, in the order the sidebar shows them."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    MY_TEAMS = "teams"
    PENDING = "pending"
    OPEN = "open"
    SOLVED = "solved"
    ALL = "all"

    LABELS = {
        MINE: "Mine",
        UNASSIGNED: "Unassigned",
        MY_TEAMS: "My teams",
        PENDING: "Pending",
        OPEN: "All open",
        SOLVED: "Solved",
        ALL: "Everything",
    }


SORTS = {
    "updated": "-updated_at",
    "oldest": "updated_at",
    "created": "-created_at",
    "due": "due_at",
    "priority": "-priority_rank",
    "breach": "next_breach_at",
}


@dataclass(frozen=True)
class InboxFilters:
    """What an agent asked the inbox for. Every field is optional; empty means "any"."""

    view: str = InboxView.OPEN
    status: str = ""
    priority: str = ""
    team: int | None = None
    assignee: int | None = None  # 0 means "nobody"
    tag: str = ""
    channel: str = ""
    sensitivity: str = ""
    q: str = ""
    sort: str = "updated"

    def as_query(self) -> dict[str, Any]:
        """The non-default values, to carry the filters into links and pages."""
        defaults = InboxFilters()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }


def _view_q(agent: Agent, view: str) -> Q:
    if view == InboxView.MINE:
        return Q(assignee=agent, status__in=OPEN_STATUSES)
    if view == InboxView.UNASSIGNED:
        return Q(assignee__isnull=True, status__in=OPEN_STATUSES)
    if view == InboxView.MY_TEAMS:
        return Q(team__in=_team_ids(agent), status__in=OPEN_STATUSES)
    if view == InboxView.PENDING:
        return Q(status__in=PENDING_STATUSES)
    if view == InboxView.SOLVED:
        return Q(status__in=DONE_STATUSES, merged_into__isnull=True)
    if view == InboxView.ALL:
        return Q(merged_into__isnull=True)
    return Q(status__in=OPEN_STATUSES)


def _team_ids(agent: Agent) -> list[int]:
    cached: list[int] | None = getattr(agent, "_kiwidesk_team_ids", None)
    if cached is None:
        cached = list(agent.teams.values_list("id", flat=True))
        agent._kiwidesk_team_ids = cached  # type: ignore[attr-defined]
    return cached


def inbox_cases(visible: QuerySet[Case], agent: Agent, filters: InboxFilters) -> QuerySet[Case]:
    """The cases of one inbox view, filtered and sorted, ready to slice into a page.

    `visible` is the set the agent may see at all (privacy.access.visible_cases).
    """
    cases = visible.filter(_view_q(agent, filters.view))
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.priority:
        cases = cases.filter(priority=filters.priority)
    if filters.team is not None:
        cases = cases.filter(team_id=filters.team)
    if filters.assignee == 0:
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        cases = cases.filter(assignee_id=filters.assignee)
    if filters.sensitivity:
        cases = cases.filter(sensitivity=filters.sensitivity)
    if filters.tag:
        cases = cases.filter(tags__name=filters.tag.strip().lower())
    if filters.channel:
        on_channel = Thread.objects.filter(case=OuterRef("pk"), channel=filters.channel)
        cases = cases.filter(Exists(on_channel))
    if filters.q:
        cases = _search(cases, filters.q)
    return _sorted(cases, filters.sort).select_related("customer", "assignee", "team")


def _search(cases: QuerySet[Case], text: str) -> QuerySet[Case]:
    text = text.strip()
    if text.lstrip("#").isdigit():
        return cases.filter(pk=int(text.lstrip("#")))
    return cases.filter(Q(subject__icontains=text) | Q(customer__name__icontains=text))


def _sorted(cases: QuerySet[Case], sort: str) -> QuerySet[Case]:
    if sort == "priority":
        rank = Conditional(
            When(priority="urgent", then=Value(3)),
            When(priority="high", then=Value(2)),
            When(priority="normal", then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        return cases.annotate(priority_rank=rank).order_by("-priority_rank", "-updated_at", "-pk")
    if sort == "breach":
        return cases.annotate(next_breach_at=_next_breach_at()).order_by(
            F("next_breach_at").asc(nulls_last=True), "-updated_at", "-pk"
        )
    order = SORTS.get(sort, "-updated_at")
    return cases.order_by(order, "-pk")


def _clocks() -> QuerySet[Any]:
    """SLA clocks through the reverse relation: cases does not import sla."""
    clock = Case._meta.get_field("clocks").related_model
    return clock._default_manager.filter(due_at__isnull=False)


def _active_clocks() -> QuerySet[Any]:
    """The clocks running towards their due instant (index clock_active_due)."""
    return _clocks().filter(state="active")


def _overdue_clocks() -> QuerySet[Any]:
    """The clocks past their due instant and not yet stopped (index clock_overdue)."""
    return _clocks().filter(state="breached", stopped_at__isnull=True)


def _owing_clocks() -> QuerySet[Any]:
    return _clocks().filter(Q(state="active") | Q(state="breached", stopped_at__isnull=True))


def _next_breach_at() -> Subquery:
    """The due instant of the case's first clock still owed: an overdue clock's is past,
    so overdue cases lead (most overdue first), then the running ones (none: no clock)."""
    due = _owing_clocks().filter(case=OuterRef("pk")).order_by("due_at").values("due_at")
    return Subquery(due[:1])


def inbox_counts(visible: QuerySet[Case], agent: Agent) -> dict[str, int]:
    """How many cases each inbox view holds, in one query."""
    aggregates = {
        view: Count("pk", filter=_view_q(agent, view))
        for view in InboxView.LABELS
        if view != InboxView.ALL
    }
    return dict(visible.aggregate(**aggregates))


def case_for_page(visible: QuerySet[Case], case_id: int) -> Case | None:
    """A case with everything its header needs, in one query (plus tags)."""
    return (
        visible.select_related("customer__organisation", "assignee", "team", "merged_into")
        .prefetch_related("tags")
        .filter(pk=case_id)
        .first()
    )


def case_threads(case: Case) -> list[Thread]:
    return list(
        Thread.objects.filter(case=case)
        .select_related("contact__organisation")
        # The call form of each thread offers the party's number on file.
        .prefetch_related("contact__identities")
        .annotate(message_count=Count("messages"))
        .order_by("created_at", "id")
    )


def case_timeline(case: Case) -> QuerySet[Event]:
    """Every event of the case and of the cases merged into it, oldest first, with messages.

    `case__in` a subquery rather than `case__merged_into=case`: the join inside an OR
    makes SQLite scan the whole events table, while this searches the
    (case, created_at) index once per case.
    """
    merged_in = Case.objects.filter(merged_into=case).values("pk")
    return (
        Event.objects.filter(Q(case=case) | Q(case__in=merged_in))
        .select_related(
            "actor",
            "thread__contact",
            "message__author_agent",
            "message__author_contact",
            "message__call__recording",
        )
        .prefetch_related(Prefetch("message__attachments"))
        .order_by("created_at", "id")
    )


def case_messages(case: Case) -> QuerySet[Message]:
    return (
        Message.objects.filter(case=case)
        .select_related("thread", "author_agent", "author_contact")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def contact_cases(visible: QuerySet[Case], contact_id: int) -> QuerySet[Case]:
    return (
        visible.filter(customer_id=contact_id)
        .select_related("assignee", "team")
        .order_by("-created_at")
    )


def last_directions(case: Case) -> dict[int, str]:
    """The direction of each thread's last message, by thread id: who spoke last.

    One query whatever the number of threads; threads with no message are absent.
    """
    # An auto-reply (out of office) is not the party speaking: it does not make us wait.
    # An outbound call that reached nobody is no answer either: the party still waits.
    last = (
        Message.objects.filter(thread=OuterRef("pk"), is_automated=False)
        .exclude(direction=Direction.OUTBOUND, call__outcome__in=UNREACHED_OUTCOMES)
        .order_by("-created_at", "-id")
    )
    rows = (
        Thread.objects.filter(case=case)
        .annotate(last_direction=Subquery(last.values("direction")[:1]))
        .values_list("pk", "last_direction")
    )
    return {pk: direction for pk, direction in rows if direction}


_VIEW_STATUSES: dict[str, tuple[str, ...]] = {
    InboxView.PENDING: PENDING_STATUSES,
    InboxView.SOLVED: DONE_STATUSES,
    InboxView.ALL: tuple(Status.values),
}
_PRIORITIES_FIRST_TO_LAST = tuple(
    sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__, reverse=True)
)
_INDEXED_SORTS = ("updated", "oldest", "priority")
# Running clocks read per case wanted: a case runs a few at once (reply, resolution, wait).
_CLOCKS_PER_CASE = 4
# Running clocks walked in due order before a narrow selection of cases is sorted whole
# instead: past this, the cases it matches are few enough to sort faster than the walk.
_HORIZON = 5_000


def inbox_page(
    visible: QuerySet[Case], agent: Agent, filters: InboxFilters, *, offset: int, limit: int
) -> list[Case]:
    """Rows `offset` to `offset + limit` of `inbox_cases`, read in index order.

    SQLite cannot walk the (status, updated_at) index in order for `status IN (...)`,
    so `inbox_cases` sorts every matching case first (40 ms for the open cases among
    100,000). Here one small query per status (and per priority, for the priority
    sort) reads only the keys a page needs from that index; the runs are merged in
    Python and the page's rows are read by primary key. The number of queries
    depends on the view and the sort, never on the number of cases.
    """
    cases = inbox_cases(visible, agent, filters)
    statuses = (
        (filters.status,) if filters.status else _VIEW_STATUSES.get(filters.view, OPEN_STATUSES)
    )
    if filters.sort == "breach":
        return _by_primary_key(_next_breach_ids(cases, statuses, offset=offset, limit=limit))
    if filters.sort not in _INDEXED_SORTS:
        return list(cases[offset : offset + limit])
    wanted = offset + limit
    groups = _PRIORITIES_FIRST_TO_LAST if filters.sort == "priority" else ("",)
    keys: list[tuple[Any, int]] = []
    for priority in groups:
        grouped = cases.filter(priority=priority) if priority else cases
        keys.extend(_merged_keys(grouped, statuses, wanted - len(keys), filters.sort))
        if len(keys) >= wanted:
            break
    return _by_primary_key([pk for _, pk in keys[offset:wanted]])


def _merged_keys(
    cases: QuerySet[Case], statuses: tuple[str, ...], count: int, sort: str
) -> list[tuple[Any, int]]:
    """The first `count` (updated_at, id) keys of `cases` over `statuses`, in sort order."""
    oldest_first = sort == "oldest"
    order = ("updated_at", "-pk") if oldest_first else ("-updated_at", "-pk")
    runs = [
        list(cases.filter(status=status).order_by(*order).values_list("updated_at", "pk")[:count])
        for status in statuses
    ]
    if oldest_first:
        merged = heapq.merge(*runs, key=lambda key: (key[0], -key[1]))
    else:
        merged = heapq.merge(*runs, reverse=True)
    return list(islice(merged, count))


def _by_primary_key(page_ids: list[int]) -> list[Case]:
    # By primary key alone: the filters already chose these ids, and repeating them
    # would let SQLite pick a status index over the primary key.
    rows = Case.objects.select_related("customer", "assignee", "team").in_bulk(page_ids)
    return [rows[pk] for pk in page_ids]


def _next_breach_ids(
    cases: QuerySet[Case], statuses: tuple[str, ...], *, offset: int, limit: int
) -> list[int]:
    """A page of `cases` by next breach: the cases with an overdue clock first (the most
    overdue first), then by their first running clock's due instant, then the cases
    owing no clock, most recently updated first.

    Solved cases run no clock. Otherwise the overdue and the running clocks' due indexes
    are walked in order, each up to a horizon; `cases` too narrow to fill the page within
    it are few, and sorted whole instead.
    """
    wanted = offset + limit
    if set(statuses) <= set(DONE_STATUSES):
        return _without_running_clock(cases, statuses, [], offset=offset, wanted=wanted)
    overdue = _cases_falling_due(_overdue_clocks(), cases, wanted)
    running = None
    if overdue is not None and len(overdue) < wanted:
        # A case may run a clock and be overdue on another: it counts once, overdue.
        running = _cases_falling_due(_active_clocks(), cases, wanted + len(overdue))
    if overdue is None or (running is None and len(overdue) < wanted):
        # `cases` comes sorted by next breach (inbox_cases), one subquery per case.
        return list(cases.values_list("pk", flat=True)[offset:wanted])
    seen = set(overdue)
    due_first = overdue + [pk for pk in running or () if pk not in seen]
    if len(due_first) >= wanted:
        return due_first[offset:wanted]
    return _without_running_clock(cases, statuses, due_first, offset=offset, wanted=wanted)


def _without_running_clock(
    cases: QuerySet[Case],
    statuses: tuple[str, ...],
    due_first: list[int],
    *,
    offset: int,
    wanted: int,
) -> list[int]:
    """The page when it reaches past the cases owing a clock (all in `due_first`)."""
    without_clock = cases.exclude(Exists(_owing_clocks().filter(case=OuterRef("pk"))))
    later = _merged_keys(without_clock, statuses, wanted - len(due_first), "updated")
    skipped = max(0, offset - len(due_first))
    return due_first[offset:] + [pk for _, pk in later[skipped:]]


def _clock_horizon(clocks: QuerySet[Any]) -> Any:
    """The due instant of the clock `_HORIZON` places down its index (None: fewer)."""
    due = clocks.order_by("due_at").values_list("due_at", flat=True)
    return next(iter(due[_HORIZON : _HORIZON + 1]), None)


def _cases_falling_due(
    clocks: QuerySet[Any], cases: QuerySet[Case], count: int
) -> list[int] | None:
    """The ids of the first `count` cases of `cases` whose `clocks` fall due first, or
    None when the clocks up to the horizon do not settle them.

    A case runs several clocks, so more clocks than cases are read, and more again in
    the rare page where many belong to cases already seen.
    """
    horizon = _clock_horizon(clocks)
    matching = clocks.filter(Exists(cases.order_by().filter(pk=OuterRef("case_id"))))
    if horizon is not None:
        matching = matching.filter(due_at__lte=horizon)
    by_due = matching.order_by("due_at", "case_id").values_list("case_id", flat=True)
    batch = count * _CLOCKS_PER_CASE
    while True:
        case_ids = list(by_due[:batch])
        distinct = list(dict.fromkeys(case_ids))
        if len(distinct) >= count:
            return distinct[:count]
        if len(case_ids) < batch:
            # Every clock of `cases` was read, unless the horizon stopped the walk.
            return distinct if horizon is None else None
        batch *= _CLOCKS_PER_CASE


def delivery_errors(timeline: Iterable[Event]) -> dict[int, str]:
    """Why each failed outbound message failed, by message id, read from its Events.

    Takes the timeline already loaded (`case_timeline`), so it costs no query.
    """
    return {
        event.message_id: str(event.payload.get("error", ""))
        for event in timeline
        if event.kind == EventKind.DELIVERY_UPDATED
        and event.message_id is not None
        and event.payload.get("status") == DeliveryStatus.FAILED
    }


def suggested_merges(visible: QuerySet[Case], case: Case, timeline: Iterable[Event]) -> list[Case]:
    """The cases ingest suggested merging `case` into that are still open and unmerged.

    Read from the `merge_suggested` Events of `case` itself in its loaded timeline
    (a case merged in brings its own, which may point here), then one query through
    `visible` (privacy.access.visible_cases), so a case the agent may not open is
    never shown. None while `case` is itself merged.
    """
    if case.merged_into_id is not None:
        return []
    ids = {
        event.payload.get("other_case_id")
        for event in timeline
        if event.kind == EventKind.MERGE_SUGGESTED and event.case_id == case.pk
    }
    wanted = [pk for pk in ids if isinstance(pk, int) and pk != case.pk]
    if not wanted:
        return []
    return list(
        visible.filter(pk__in=wanted, status__in=OPEN_STATUSES, merged_into__isnull=True).order_by(
            "pk"
        )
    )


def case_calls(case: Case) -> QuerySet[Call]:
    """The calls logged on the case's threads, oldest first, with what a call log shows."""
    return (
        Call.objects.filter(message__case=case)
        .select_related("message__thread__contact", "message__author_agent", "recording")
        .order_by("started_at", "id")
    )


def number_on_file(contact: Contact | None) -> str:
    """The contact's phone number, else their WhatsApp number (the same E.164 line)."""
    if contact is None:
        return ""
    # Read through .all() so a prefetch (case_threads) answers without a query.
    identities = sorted(contact.identities.all(), key=lambda i: (not i.is_primary, i.pk))
    numbers: dict[str, str] = {}
    for identity in identities:
        numbers.setdefault(identity.kind, identity.value)
    return numbers.get(IdentityKind.PHONE) or numbers.get(IdentityKind.WHATSAPP, "")
