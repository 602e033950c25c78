"""The demo seeds two calendars, a VIP and a standard policy, and every case's clocks."""

from __future__ import annotations

from datetime import UTC, datetime

from kiwidesk.cases.models import Case, Priority
from kiwidesk.contacts.models import Tier
from kiwidesk.seed.load import seed_database
from kiwidesk.seed.sla import seed_sla
from kiwidesk.sla.calendar import is_open
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import BusinessCalendar, Clock, Policy, Target

NOW = int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp())


def seeded(cases: int = 40) -> None:
    seed_database(cases=cases, messages=cases * 5, seed=7, now=NOW)
    seed_sla(cases=cases)


def test_demo_has_a_london_office_calendar_closed_on_english_holidays(db: None) -> None:
    seeded()

    london = BusinessCalendar.objects.get(name="London office").to_calendar()

    assert is_open(london, datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) is True
    assert is_open(london, datetime(2026, 3, 7, 9, 0, tzinfo=UTC)) is False
    assert is_open(london, datetime(2026, 8, 31, 9, 0, tzinfo=UTC)) is False


def test_demo_policies_set_a_target_for_every_metric_at_every_priority(db: None) -> None:
    seeded()

    policies = list(Policy.objects.order_by("position").values_list("name", "tiers"))
    targets = Target.objects.values_list("policy__name", "metric", "priority")

    assert policies == [("VIP", [Tier.VIP]), ("Standard", [])]
    assert sorted(targets) == sorted(
        (name, metric.value, priority)
        for name in ("VIP", "Standard")
        for metric in Metric
        for priority in Priority.values
    )


def test_vip_targets_are_calendar_hours_and_standard_ones_business_hours(db: None) -> None:
    seeded()

    kinds = set(Target.objects.values_list("policy__name", "is_business_time"))

    assert kinds == {("VIP", False), ("Standard", True)}


def test_urgent_cases_get_a_quarter_of_the_normal_time(db: None) -> None:
    seeded()

    minutes = dict(
        Target.objects.filter(policy__name="Standard", metric="first_reply").values_list(
            "priority", "minutes"
        )
    )

    assert minutes == {"urgent": 120, "high": 240, "normal": 480, "low": 960}


def test_every_seeded_case_has_clocks_under_the_policy_of_its_tier(db: None) -> None:
    seeded()

    vip_cases = set(
        Case.objects.filter(customer__organisation__tier=Tier.VIP).values_list("pk", flat=True)
    )
    policy_by_case = dict(Clock.objects.values_list("case_id", "policy__name").distinct())

    assert set(policy_by_case) == set(Case.objects.values_list("pk", flat=True))
    assert {case for case, name in policy_by_case.items() if name == "VIP"} == vip_cases
