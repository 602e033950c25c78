"""The case page's SLA clocks panel: names, states, countdowns and colours, most urgent first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Channel, Priority
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import BusinessCalendar, Clock, Policy, Target
from kiwidesk.sla.services import recompute_case
from tests.factories.cases import make_case
from tests.factories.contacts import ContactFactory, OrganisationFactory

# A Monday at noon, UTC.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CLOCK_ITEM = re.compile(
    r'<li class="clock clock-(?P<tone>[a-z-]+)"[^>]*>\s*'
    r'<span class="clock-name">(?P<name>[^<]*)</span>\s*'
    r'<span class="badge clock-badge">(?P<status>[^<]*)</span>\s*'
    r"<(?:time|span) class=\"clock-countdown\"[^>]*>(?P<wording>[^<]*)<"
)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(name="Standard", position=10)
    for metric in (Metric.FIRST_REPLY, Metric.RESOLUTION, Metric.NEXT_REPLY):
        Target.objects.create(
            policy=policy,
            metric=metric,
            priority=Priority.NORMAL,
            minutes=240,
            is_business_time=False,
        )
    return policy


def clock(case: Case, policy: Policy, metric: Metric, state: str, **times: Any) -> Clock:
    return Clock.objects.create(
        case=case,
        policy=policy,
        metric=metric,
        state=state,
        started_at=times.pop("started_at", NOW - timedelta(hours=1)),
        **times,
    )


def panel(client: Client, case: Case) -> list[tuple[str, str, str, str]]:
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    return [(m["tone"], m["name"], m["status"], m["wording"]) for m in CLOCK_ITEM.finditer(html)]


def test_a_running_clock_counts_down_in_green_while_on_track(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    clock(case, policy, Metric.RESOLUTION, "active", due_at=NOW + timedelta(hours=1, minutes=20))

    assert panel(agent_client, case) == [
        ("on-track", "Resolution", "On track", "due in 1 h 20 min")
    ]


def test_a_running_clock_turns_amber_under_a_quarter_of_its_target_left(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    clock(case, policy, Metric.FIRST_REPLY, "active", due_at=NOW + timedelta(minutes=59))

    assert panel(agent_client, case) == [("at-risk", "First reply", "At risk", "due in 59 min")]


def test_a_clock_past_due_reads_overdue_in_red_before_it_is_recomputed(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    clock(case, policy, Metric.FIRST_REPLY, "active", due_at=NOW - timedelta(minutes=5))

    assert panel(agent_client, case) == [
        ("breached", "First reply", "Breached", "overdue by 5 min")
    ]


def test_a_breached_clock_that_stopped_says_by_how_much_it_missed(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    due_at = NOW - timedelta(hours=2)
    clock(
        case,
        policy,
        Metric.FIRST_REPLY,
        "breached",
        due_at=due_at,
        breached_at=due_at,
        stopped_at=due_at + timedelta(hours=1, minutes=5),
    )

    assert panel(agent_client, case) == [
        ("breached", "First reply", "Breached", "missed by 1 h 5 min")
    ]


def test_paused_and_achieved_clocks_are_grey_with_the_time_they_counted(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    clock(case, policy, Metric.RESOLUTION, "paused", elapsed_seconds=40 * 60)
    clock(
        case,
        policy,
        Metric.FIRST_REPLY,
        "achieved",
        stopped_at=NOW - timedelta(minutes=30),
        elapsed_seconds=30 * 60,
    )

    assert panel(agent_client, case) == [
        ("idle", "Resolution", "Paused", "40 min counted"),
        ("idle", "First reply", "Achieved", "met in 30 min"),
    ]


def test_clocks_are_listed_breached_first_then_by_due_instant(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    clock(case, policy, Metric.RESOLUTION, "active", due_at=NOW + timedelta(days=2, hours=3))
    clock(case, policy, Metric.NEXT_REPLY, "active", due_at=NOW + timedelta(hours=3))
    due_at = NOW - timedelta(hours=1)
    clock(case, policy, Metric.FIRST_REPLY, "breached", due_at=due_at, breached_at=due_at)

    assert panel(agent_client, case) == [
        ("breached", "First reply", "Breached", "overdue by 1 h"),
        ("on-track", "Next reply", "On track", "due in 3 h"),
        ("on-track", "Resolution", "On track", "due in 2 d 3 h"),
    ]


def test_a_business_hours_clock_is_amber_when_little_business_time_is_left(
    agent_client: Client, agent: Agent, db: None
) -> None:
    office = BusinessCalendar.objects.create(
        name="Office",
        time_zone="UTC",
        weekly_hours={str(day): [["09:00", "17:00"]] for day in range(5)},
    )
    policy = Policy.objects.create(name="Office hours", calendar=office)
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.NORMAL, minutes=8 * 60
    )
    case = make_case()
    # 16:50 to tomorrow 10:00 is 17 h on the wall but only 70 business minutes.
    with time_machine.travel(NOW.replace(hour=16, minute=50), tick=False):
        agent_client.force_login(agent)  # a fresh session: the one from 12:00 timed out
        clock(case, policy, Metric.FIRST_REPLY, "active", due_at=NOW + timedelta(hours=22))

        shown = panel(agent_client, case)

    assert shown == [("at-risk", "First reply", "At risk", "due in 17 h 10 min")]


def test_a_third_party_clock_is_named_for_the_party_it_waits_on(
    agent_client: Client, agent: Agent, policy: Policy
) -> None:
    Target.objects.create(
        policy=policy,
        metric=Metric.THIRD_PARTY_RESPONSE,
        priority=Priority.NORMAL,
        minutes=120,
        is_business_time=False,
    )
    case = make_case(agent, at=NOW - timedelta(minutes=30))
    clinic = ContactFactory(
        is_third_party=True, organisation=OrganisationFactory(name="Northside Clinic")
    )
    thread = cases.open_thread(agent, case, contact=clinic, channel=Channel.EMAIL)
    cases.reply(
        agent, thread, text="Please confirm the appointment.", at=NOW - timedelta(minutes=20)
    )
    recompute_case(case.pk, as_of=NOW)

    shown = panel(agent_client, case)

    assert (
        "on-track",
        "Third-party response — Northside Clinic",
        "On track",
        "due in 1 h 40 min",
    ) in shown


def test_the_countdown_carries_its_due_instant_for_the_browser_to_recount(
    agent_client: Client, policy: Policy
) -> None:
    case = make_case()
    clock(case, policy, Metric.RESOLUTION, "active", due_at=NOW + timedelta(hours=2))

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b'data-due-at="2026-03-02T14:00:00Z"' in response.content
    assert b'<time class="clock-countdown" datetime="2026-03-02T14:00:00Z"' in response.content


def test_a_case_no_policy_covers_says_it_owes_no_clocks(agent_client: Client, db: None) -> None:
    case = make_case()

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"No SLA clocks: no policy asks anything of this case yet." in response.content


def test_the_clocks_panel_costs_the_same_queries_for_one_clock_or_many(
    agent_client: Client, agent: Agent, policy: Policy
) -> None:
    one, many = make_case(), make_case()
    clock(one, policy, Metric.RESOLUTION, "active", due_at=NOW + timedelta(hours=1))
    for metric in (Metric.RESOLUTION, Metric.FIRST_REPLY, Metric.NEXT_REPLY):
        clock(many, policy, metric, "active", due_at=NOW + timedelta(hours=1))
    for number in range(3):
        # Both pages show three third-party threads; only one page has their clocks.
        cases.open_thread(
            agent, one, contact=ContactFactory(is_third_party=True), channel=Channel.EMAIL
        )
        thread = cases.open_thread(
            agent, many, contact=ContactFactory(is_third_party=True), channel=Channel.EMAIL
        )
        clock(
            many, policy, Metric.THIRD_PARTY_RESPONSE, "active", thread=thread,
            due_at=NOW + timedelta(hours=number),
        )  # fmt: skip
    agent_client.get(f"/cases/{one.pk}/")

    with CaptureQueriesContext(connection) as for_one:
        agent_client.get(f"/cases/{one.pk}/")
    with CaptureQueriesContext(connection) as for_many:
        agent_client.get(f"/cases/{many.pk}/")

    clock_queries = [q for q in for_many.captured_queries if '"sla_clock"' in q["sql"]]
    assert len(clock_queries) == 1
    assert len(for_many) == len(for_one)
