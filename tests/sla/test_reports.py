"""The SLA report counts achieved and breached cycles per metric, team, policy and week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Case
from kiwidesk.sla.metrics import Metric, State
from kiwidesk.sla.models import Clock, Policy
from kiwidesk.sla.reports import ReportFilters, ReportRow, sla_report
from tests.factories.cases import make_case

# A Wednesday of ISO week 2026-W10 (which starts on Monday 2 March).
WEEK_10 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def standard(db: None) -> Policy:
    return Policy.objects.create(name="Standard", position=10)


def add_clock(
    case: Case,
    policy: Policy,
    metric: Metric,
    state: State,
    *,
    started_at: datetime = WEEK_10,
    cycles: int = 1,
    breaches: int = 0,
) -> Clock:
    return Clock.objects.create(
        case=case, policy=policy, metric=metric, state=state, started_at=started_at,
        cycles=cycles, breaches=breaches,
    )  # fmt: skip


def test_a_breached_and_an_achieved_clock_count_in_their_metric_team_policy_and_week(
    standard: Policy, team: Team
) -> None:
    add_clock(make_case(team=team), standard, Metric.FIRST_REPLY, State.BREACHED, breaches=1)
    add_clock(make_case(team=team), standard, Metric.FIRST_REPLY, State.ACHIEVED)

    rows = sla_report(ReportFilters())

    assert rows == [
        ReportRow(
            week="2026-W10", week_starts_on=date(2026, 3, 2), team_id=team.pk,
            team_name="Clinician support", policy_id=standard.pk, policy_name="Standard",
            metric=Metric.FIRST_REPLY, metric_name="First reply", achieved=1, breached=1,
        )
    ]  # fmt: skip


def test_clocks_of_other_weeks_teams_and_metrics_are_rows_of_their_own(
    standard: Policy, team: Team, other_team: Team
) -> None:
    add_clock(make_case(team=team), standard, Metric.FIRST_REPLY, State.ACHIEVED)
    add_clock(
        make_case(team=team), standard, Metric.FIRST_REPLY, State.ACHIEVED,
        started_at=WEEK_10 + timedelta(days=7),
    )  # fmt: skip
    add_clock(make_case(team=other_team), standard, Metric.RESOLUTION, State.BREACHED, breaches=1)
    add_clock(make_case(), standard, Metric.RESOLUTION, State.ACHIEVED)

    rows = sla_report(ReportFilters())

    assert [(r.week, r.team_name, r.metric_name, r.achieved, r.breached) for r in rows] == [
        ("2026-W10", "Clinician support", "First reply", 1, 0),
        ("2026-W10", "Concierge", "Resolution", 0, 1),
        ("2026-W10", "No team", "Resolution", 1, 0),
        ("2026-W11", "Clinician support", "First reply", 1, 0),
    ]


def test_a_running_cycle_is_neither_achieved_nor_breached_until_it_ends(
    standard: Policy, team: Team
) -> None:
    add_clock(make_case(team=team), standard, Metric.NEXT_REPLY, State.ACTIVE, cycles=4, breaches=1)

    rows = sla_report(ReportFilters())

    assert [(r.metric, r.achieved, r.breached) for r in rows] == [(Metric.NEXT_REPLY, 2, 1)]


def test_the_report_filters_by_team_policy_and_date_range(
    standard: Policy, team: Team, other_team: Team
) -> None:
    vip = Policy.objects.create(name="VIP", position=0)
    add_clock(make_case(team=team), standard, Metric.FIRST_REPLY, State.ACHIEVED)
    add_clock(make_case(team=team), vip, Metric.FIRST_REPLY, State.ACHIEVED)
    add_clock(make_case(team=other_team), standard, Metric.FIRST_REPLY, State.ACHIEVED)
    add_clock(
        make_case(team=team), standard, Metric.RESOLUTION, State.ACHIEVED,
        started_at=WEEK_10 + timedelta(days=1),
    )  # fmt: skip

    rows = sla_report(
        ReportFilters(
            team_id=team.pk, policy_id=standard.pk, starts_on=date(2026, 3, 4),
            ends_on=date(2026, 3, 4),
        )
    )  # fmt: skip

    assert [(r.team_name, r.policy_name, r.metric) for r in rows] == [
        ("Clinician support", "Standard", Metric.FIRST_REPLY)
    ]


def test_the_report_is_one_query_however_many_rows(standard: Policy, team: Team) -> None:
    for metric in (Metric.FIRST_REPLY, Metric.RESOLUTION, Metric.AGENT_WORK):
        add_clock(make_case(team=team), standard, metric, State.ACHIEVED)

    with CaptureQueriesContext(connection) as queries:
        rows = sla_report(ReportFilters())

    assert (len(rows), len(queries)) == (3, 1)
