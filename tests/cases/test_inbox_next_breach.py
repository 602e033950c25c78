"""The inbox sorted by next breach: overdue cases first, then the case whose running clock
falls due first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import queries
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Priority, Status
from kiwidesk.cases.queries import InboxFilters, InboxView, inbox_page
from kiwidesk.privacy.access import visible_cases
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Policy, Target
from kiwidesk.sla.services import recompute_case
from tests.factories.cases import customer_thread, make_case

OPENED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BY_NEXT_BREACH = InboxFilters(sort="breach")


def at(minutes: float) -> datetime:
    return OPENED_AT + timedelta(minutes=minutes)


@pytest.fixture
def policy(db: None) -> Policy:
    """First reply in an hour (a quarter of an hour when urgent); resolution in a day."""
    policy = Policy.objects.create(name="Standard", position=10)
    for priority, metric, minutes in (
        (Priority.NORMAL, Metric.FIRST_REPLY, 60),
        (Priority.URGENT, Metric.FIRST_REPLY, 15),
        (Priority.NORMAL, Metric.RESOLUTION, 24 * 60),
        (Priority.URGENT, Metric.RESOLUTION, 24 * 60),
    ):
        Target.objects.create(
            policy=policy, metric=metric, priority=priority, minutes=minutes, is_business_time=False
        )
    return policy


def opened(minutes: float, **fields: object) -> Case:
    case = make_case(at=at(minutes), **fields)
    recompute_case(case.pk, as_of=at(minutes))
    return case


def page(agent: Agent, filters: InboxFilters = BY_NEXT_BREACH, **window: int) -> list[int]:
    rows = inbox_page(
        visible_cases(agent),
        agent,
        filters,
        offset=window.get("offset", 0),
        limit=window.get("limit", 50),
    )
    return [case.pk for case in rows]


def test_the_case_breaching_sooner_comes_first(agent: Agent, policy: Policy) -> None:
    later = opened(0)
    sooner = opened(-30)

    assert page(agent) == [sooner.pk, later.pk]


def test_an_urgent_case_due_sooner_overtakes_an_older_one(agent: Agent, policy: Policy) -> None:
    older = opened(0)
    urgent = opened(30, priority=Priority.URGENT)

    assert page(agent) == [urgent.pk, older.pk]


def test_cases_without_a_running_clock_come_last_most_recently_updated_first(
    agent: Agent, policy: Policy
) -> None:
    Policy.objects.update(is_active=False)
    quiet_older = opened(0)
    quiet_newer = opened(10)
    Policy.objects.update(is_active=True)
    running = opened(20)

    assert page(agent) == [running.pk, quiet_newer.pk, quiet_older.pk]


def test_a_case_already_past_its_due_instant_leads_the_running_ones(
    agent: Agent, policy: Policy
) -> None:
    overdue = opened(0)
    recompute_case(overdue.pk, as_of=at(90))  # first reply was due at 60
    due_soon = opened(89)

    assert page(agent) == [overdue.pk, due_soon.pk]


def test_the_most_overdue_case_comes_first(agent: Agent, policy: Policy) -> None:
    less = opened(20)
    recompute_case(less.pk, as_of=at(200))
    more = opened(0)
    recompute_case(more.pk, as_of=at(200))

    assert page(agent) == [more.pk, less.pk]


def test_a_case_whose_late_reply_was_sent_is_no_longer_overdue(
    agent: Agent, policy: Policy
) -> None:
    answered_late = opened(0)
    cases.reply(agent, customer_thread(answered_late), text="Sorry for the wait.", at=at(90))
    recompute_case(answered_late.pk, as_of=at(100))
    waiting = opened(95)

    assert page(agent) == [waiting.pk, answered_late.pk]


def test_overdue_cases_lead_a_narrow_selection_too(
    agent: Agent, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "_HORIZON", 0)
    running = opened(100)
    overdue = opened(0)
    recompute_case(overdue.pk, as_of=at(100))

    assert page(agent) == [overdue.pk, running.pk]


def test_a_met_first_reply_leaves_the_case_sorted_by_its_resolution(
    agent: Agent, policy: Policy
) -> None:
    replied = opened(0)
    cases.reply(agent, customer_thread(replied), text="On it.", at=at(5))
    recompute_case(replied.pk, as_of=at(30))
    waiting = opened(600)

    assert page(agent) == [waiting.pk, replied.pk]


def test_a_page_can_span_the_last_running_case_and_the_first_quiet_one(
    agent: Agent, policy: Policy
) -> None:
    Policy.objects.update(is_active=False)
    quiet = [opened(minutes) for minutes in (0, 10)]
    Policy.objects.update(is_active=True)
    running = [opened(minutes) for minutes in (20, 30)]

    assert page(agent, offset=1, limit=2) == [running[1].pk, quiet[1].pk]
    assert page(agent, offset=3, limit=2) == [quiet[0].pk]


def test_a_narrow_selection_is_sorted_the_same_way(
    agent: Agent, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny horizon makes the walk of the clocks give up, as it does for a few cases
    # among very many: the selection is then sorted whole.
    monkeypatch.setattr(queries, "_HORIZON", 0)
    Policy.objects.update(is_active=False)
    quiet = opened(0)
    Policy.objects.update(is_active=True)
    later, sooner = opened(20), opened(10)

    assert page(agent) == [sooner.pk, later.pk, quiet.pk]


def test_the_sort_keeps_to_the_view(agent: Agent, policy: Policy) -> None:
    theirs = opened(0)
    mine = opened(30, assignee=agent)

    assert page(agent, InboxFilters(view=InboxView.MINE, sort="breach")) == [mine.pk]
    assert theirs.pk in page(agent)


def test_cases_beyond_clearance_stay_out_of_the_sorted_inbox(agent: Agent, policy: Policy) -> None:
    hidden = opened(-60, sensitivity="clinical")
    shown = opened(0)

    assert page(agent) == [shown.pk]
    assert hidden.pk not in page(agent, offset=0, limit=10)


def test_solved_cases_sorted_by_next_breach_list_most_recently_updated_first(
    agent: Agent, policy: Policy
) -> None:
    first, second = opened(0), opened(10)
    for minutes, case in ((30, second), (40, first)):
        cases.update_case(agent, case, {"status": Status.SOLVED}, at=at(minutes))
        recompute_case(case.pk, as_of=at(minutes))

    assert page(agent, InboxFilters(view=InboxView.SOLVED, sort="breach")) == [
        first.pk,
        second.pk,
    ]


def test_the_inbox_offers_next_breach_and_sorts_by_it(
    client: Client, agent: Agent, policy: Policy
) -> None:
    later = opened(0)
    sooner = opened(-30)
    client.force_login(agent)

    response = client.get("/", {"sort": "breach"})

    html = response.content.decode()
    assert '<option value="breach" selected>Next breach</option>' in html
    assert html.index(f'href="/cases/{sooner.pk}/"') < html.index(f'href="/cases/{later.pk}/"')


def test_the_api_lists_cases_by_next_breach_too(
    client: Client, agent: Agent, policy: Policy
) -> None:
    later = opened(0, assignee=agent)
    sooner = opened(0, assignee=agent, priority=Priority.URGENT)
    client.force_login(agent)

    response = client.get("/api/v1/cases", {"sort": "breach"})

    assert [row["id"] for row in response.json()["items"]] == [sooner.pk, later.pk]
