"""The demo's SLA: two business calendars, a VIP and a standard policy, and their clocks.

VIP organisations get tight targets around the clock; everyone else gets business
hours on a London office calendar with the holidays of England. Targets are set for
every metric at every priority, so the demo shows every kind of clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from kiwidesk.cases.models import Priority
from kiwidesk.contacts.models import Tier
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import BusinessCalendar, Policy, Target
from kiwidesk.sla.rebuild import rebuild_clocks

LONDON_HOURS = {str(day): [["08:00", "18:00"]] for day in range(5)}  # Monday to Friday

# Minutes per metric at normal priority (business hours: a working day is 600); other
# priorities scale these (see _minutes).
STANDARD_MINUTES = {
    Metric.FIRST_REPLY: 8 * 60,
    Metric.NEXT_REPLY: 8 * 60,
    Metric.PERIODIC_UPDATE: 2 * 10 * 60,
    Metric.PAUSABLE_UPDATE: 10 * 60,
    Metric.CUSTOMER_WAIT: 3 * 10 * 60,
    Metric.AGENT_WORK: 2 * 10 * 60,
    Metric.RESOLUTION: 5 * 10 * 60,
    Metric.TEAM_OWNERSHIP: 2 * 10 * 60,
    Metric.THIRD_PARTY_RESPONSE: 10 * 60,
    Metric.FOLLOW_UP: 2 * 10 * 60,
}
# Around the clock, so nights and weekends count: tighter than the standard targets
# in hours that pass, loose enough that most demo cases meet them.
VIP_MINUTES = {
    Metric.FIRST_REPLY: 4 * 60,
    Metric.NEXT_REPLY: 8 * 60,
    Metric.PERIODIC_UPDATE: 24 * 60,
    Metric.PAUSABLE_UPDATE: 24 * 60,
    Metric.CUSTOMER_WAIT: 3 * 24 * 60,
    Metric.AGENT_WORK: 2 * 24 * 60,
    Metric.RESOLUTION: 5 * 24 * 60,
    Metric.TEAM_OWNERSHIP: 5 * 24 * 60,
    Metric.THIRD_PARTY_RESPONSE: 24 * 60,
    Metric.FOLLOW_UP: 2 * 24 * 60,
}
# Urgent cases get a quarter of the normal time, low ones twice as much.
PRIORITY_SCALE = {
    Priority.URGENT: 0.25,
    Priority.HIGH: 0.5,
    Priority.NORMAL: 1.0,
    Priority.LOW: 2.0,
}


@dataclass(frozen=True)
class SlaSeedResult:
    policies: int
    targets: int
    clocks: int


# From this many cases the rebuild is split between two processes; below it, forking
# costs more than it saves (and a small seed may run inside a test's transaction,
# which a forked process cannot share).
PARALLEL_FROM_CASES = 10_000


def seed_sla(*, cases: int) -> SlaSeedResult:
    """Create the demo calendars and policies, then rebuild the clocks of the `cases` seeded."""
    with transaction.atomic():
        policies = _create_policies()
    summary = rebuild_clocks(workers=2 if cases >= PARALLEL_FROM_CASES else 1)
    targets = Target.objects.filter(policy__in=policies).count()
    return SlaSeedResult(policies=len(policies), targets=targets, clocks=summary.clocks)


def _create_policies() -> list[Policy]:
    london = BusinessCalendar.objects.create(
        name="London office",
        time_zone="Europe/London",
        weekly_hours=LONDON_HOURS,
        country="GB",
        subdivision="ENG",
    )
    always = BusinessCalendar.objects.create(name="Around the clock", is_always_open=True)
    vip = Policy.objects.create(
        name="VIP", position=0, calendar=always, tiers=[Tier.VIP.value], follow_up_limit=3
    )
    standard = Policy.objects.create(
        name="Standard", position=1, calendar=london, follow_up_limit=3
    )
    _create_targets(vip, VIP_MINUTES, is_business_time=False)
    _create_targets(standard, STANDARD_MINUTES, is_business_time=True)
    return [vip, standard]


def _create_targets(policy: Policy, minutes: dict[Metric, int], *, is_business_time: bool) -> None:
    Target.objects.bulk_create(
        Target(
            policy=policy,
            metric=metric.value,
            priority=priority,
            minutes=_minutes(normal, priority),
            is_business_time=is_business_time,
        )
        for metric, normal in minutes.items()
        for priority in Priority.values
    )


def _minutes(normal: int, priority: str) -> int:
    return max(15, round(normal * PRIORITY_SCALE[Priority(priority)]))
