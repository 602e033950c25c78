"""The SLA report: achieved and breached cycles per metric, team, policy and ISO week.

Read from the stored clocks in one grouped query. A clock is counted in the week it
started (its first cycle), in the server's time zone. `breaches` counts its breached
cycles; its achieved cycles are the others that have ended (a cycle still running or
paused and not yet breached is neither).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case as Conditional
from django.db.models import F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from kiwidesk.sla.metrics import Metric, State
from kiwidesk.sla.models import Clock
from kiwidesk.sla.queries import METRIC_NAMES


@dataclass(frozen=True, slots=True)
class ReportFilters:
    team_id: int | None = None
    policy_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True, slots=True)
class ReportRow:
    week: str
    week_starts_on: date
    team_id: int | None
    team_name: str
    policy_id: int
    policy_name: str
    metric: Metric
    metric_name: str
    achieved: int
    breached: int


def sla_report(filters: ReportFilters) -> list[ReportRow]:
    """Rows by week, then team, policy and metric (one query)."""
    running = Conditional(
        When(state__in=[State.ACTIVE, State.PAUSED], then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = (
        _filtered(filters)
        .annotate(week_start=TruncWeek("started_at"))
        .values(
            "week_start",
            "case__team_id",
            "case__team__name",
            "policy_id",
            "policy__name",
            "metric",
        )
        .annotate(
            breached=Sum("breaches"),
            achieved=Sum(F("cycles") - F("breaches") - running),
        )
        .order_by(
            "week_start",
            F("case__team__name").asc(nulls_last=True),
            "policy__name",
            "policy_id",
            "metric",
        )
    )
    return [_row(row) for row in rows]


def _filtered(filters: ReportFilters) -> QuerySet[Clock]:
    clocks = Clock.objects.all()
    if filters.team_id is not None:
        clocks = clocks.filter(case__team_id=filters.team_id)
    if filters.policy_id is not None:
        clocks = clocks.filter(policy_id=filters.policy_id)
    if filters.starts_on is not None:
        clocks = clocks.filter(started_at__gte=_midnight(filters.starts_on))
    if filters.ends_on is not None:
        clocks = clocks.filter(started_at__lt=_midnight(filters.ends_on + timedelta(days=1)))
    return clocks


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _row(row: Mapping[str, object]) -> ReportRow:
    week_start = row["week_start"]
    starts_on = week_start.date() if isinstance(week_start, datetime) else week_start
    assert isinstance(starts_on, date)  # noqa: S101 -- TruncWeek gives a datetime
    year, week, _ = starts_on.isocalendar()
    metric = Metric(str(row["metric"]))
    team_id = row["case__team_id"]
    return ReportRow(
        week=f"{year}-W{week:02d}",
        week_starts_on=starts_on,
        team_id=team_id if isinstance(team_id, int) else None,
        team_name=str(row["case__team__name"] or "No team"),
        policy_id=int(str(row["policy_id"])),
        policy_name=str(row["policy__name"]),
        metric=metric,
        metric_name=METRIC_NAMES.get(metric, metric.value),
        achieved=int(str(row["achieved"] or 0)),
        breached=int(str(row["breached"] or 0)),
    )
