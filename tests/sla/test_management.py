"""Leads manage SLA policies and calendars: validated, audited, and the clocks follow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Priority
from kiwidesk.privacy.models import AuditRecord
from kiwidesk.sla import management
from kiwidesk.sla.management import (
    CalendarSpec,
    PolicySpec,
    SlaManagementForbiddenError,
    SlaSettingsInvalidError,
    TargetSpec,
)
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import BusinessCalendar, Clock, Policy
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
OFFICE_HOURS = {"0": [["09:00", "17:00"]]}
FIRST_REPLY_HOUR = TargetSpec(Metric.FIRST_REPLY, Priority.NORMAL, 60, is_business_time=False)


@pytest.fixture
def lead(db: None) -> Agent:
    return AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")


def test_a_lead_creates_a_policy_with_its_targets_last_in_the_order(lead: Agent) -> None:
    Policy.objects.create(name="VIP", position=40)

    policy = management.create_policy(
        lead, PolicySpec(name=" Standard ", tiers=("premium",), targets=(FIRST_REPLY_HOUR,))
    )

    assert (policy.name, policy.position, policy.tiers) == ("Standard", 50, ["premium"])
    assert list(policy.targets.values_list("metric", "priority", "minutes")) == [
        ("first_reply", "normal", 60)
    ]


def test_a_policy_change_is_audited_with_its_author(lead: Agent) -> None:
    policy = management.create_policy(lead, PolicySpec(name="Standard"))

    management.update_policy(lead, policy, PolicySpec(name="Standard hours"))

    records = AuditRecord.objects.filter(object_type="sla_policy", object_id=str(policy.pk))
    assert sorted(records.values_list("action", "actor_id", "reason")) == [
        ("sla.policy.create", lead.pk, "Standard"),
        ("sla.policy.update", lead.pk, "Standard hours"),
    ]


def test_an_agent_may_not_change_policies(agent: Agent) -> None:
    with pytest.raises(SlaManagementForbiddenError):
        management.create_policy(agent, PolicySpec(name="Standard"))

    assert Policy.objects.count() == 0


def test_an_unknown_condition_value_and_a_zero_target_are_refused_with_reasons(
    lead: Agent,
) -> None:
    spec = PolicySpec(
        name="Broken",
        priorities=("asap",),
        targets=(TargetSpec(Metric.RESOLUTION, Priority.HIGH, 0),),
    )

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_policy(lead, spec)

    assert refused.value.messages == [
        "Unknown priority 'asap': choose from low, normal, high, urgent.",
        "The resolution target must be at least 1 minute.",
    ]
    assert Policy.objects.count() == 0


def test_two_targets_for_one_metric_and_priority_are_refused(lead: Agent) -> None:
    spec = PolicySpec(name="Twice", targets=(FIRST_REPLY_HOUR, FIRST_REPLY_HOUR))

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_policy(lead, spec)

    assert refused.value.messages == ["Two targets for first_reply at normal priority."]


def test_an_organisation_target_is_only_for_third_party_responses(lead: Agent) -> None:
    spec = PolicySpec(
        name="Vendors", targets=(TargetSpec(Metric.FIRST_REPLY, Priority.NORMAL, 5, True, 999),)
    )

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_policy(lead, spec)

    assert refused.value.messages == [
        "Only a third-party response target names an organisation.",
        "There is no organisation 999.",
    ]


def test_moving_a_policy_up_puts_it_before_the_one_above(lead: Agent) -> None:
    first = Policy.objects.create(name="First", position=0)
    second = Policy.objects.create(name="Second", position=0)
    third = Policy.objects.create(name="Third", position=5)

    ordered = management.move_policy(lead, third, to_index=0)

    assert [p.name for p in ordered] == ["Third", "First", "Second"]
    assert list(Policy.objects.values_list("name", flat=True)) == ["Third", "First", "Second"]
    assert (management.policy_index(third), first.pk < second.pk) == (0, True)


def test_a_new_policy_applies_to_the_open_cases_clocks(
    lead: Agent, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    case = make_case()
    settings.TASKS = IMMEDIATE

    with django_capture_on_commit_callbacks(execute=True):
        policy = management.create_policy(
            lead, PolicySpec(name="Standard", targets=(FIRST_REPLY_HOUR,))
        )

    assert list(Clock.objects.filter(case=case).values_list("metric", "policy_id")) == [
        ("first_reply", policy.pk)
    ]


def test_deleting_a_policy_removes_its_clocks_from_open_cases(
    lead: Agent, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        policy = management.create_policy(
            lead, PolicySpec(name="Standard", targets=(FIRST_REPLY_HOUR,))
        )
        case = make_case()

    with django_capture_on_commit_callbacks(execute=True):
        management.delete_policy(lead, policy)

    assert Clock.objects.filter(case=case).count() == 0


def test_recomputes_are_queued_in_batches(lead: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(management, "RECOMPUTE_BATCH", 2)

    queued = management.queue_recompute([1, 2, 3, 4, 5])

    batches = DBTaskResult.objects.order_by("enqueued_at", "id")
    assert queued == 3
    assert [r.args_kwargs["args"] for r in batches] == [[[1, 2]], [[3, 4]], [[5]]]


def test_a_lead_creates_a_calendar_with_an_overnight_shift_and_holidays(lead: Agent) -> None:
    spec = CalendarSpec(
        name="Berlin nights",
        time_zone="Europe/Berlin",
        weekly_hours={"0": [["22:00", "06:00"]], "1": [["09:00", "12:00"], ["13:00", "17:00"]]},
        country="de",
        subdivision="be",
        extra_closed_dates=("2026-12-24",),
    )

    calendar = management.create_calendar(lead, spec)

    stored = BusinessCalendar.objects.get(pk=calendar.pk)
    assert (stored.country, stored.subdivision, stored.extra_closed_dates) == (
        "DE",
        "BE",
        ["2026-12-24"],
    )
    assert AuditRecord.objects.filter(action="sla.calendar.create").count() == 1


def test_a_calendar_with_an_unknown_time_zone_is_refused(lead: Agent) -> None:
    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_calendar(
            lead,
            CalendarSpec(
                name="Mars",
                time_zone="Mars/Olympus",
                is_always_open=False,
                weekly_hours=OFFICE_HOURS,
            ),
        )

    assert refused.value.messages == ["Not a valid calendar: unknown time zone 'Mars/Olympus'"]
    assert BusinessCalendar.objects.count() == 0


def test_a_calendar_with_an_unknown_country_is_refused(lead: Agent) -> None:
    with pytest.raises(SlaSettingsInvalidError):
        management.create_calendar(
            lead, CalendarSpec(name="Nowhere", country="QQ", weekly_hours=OFFICE_HOURS)
        )

    assert BusinessCalendar.objects.count() == 0


def test_a_calendar_change_recomputes_the_cases_counting_in_it(
    lead: Agent, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    calendar = management.create_calendar(
        lead, CalendarSpec(name="Office", weekly_hours=OFFICE_HOURS)
    )
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        management.create_policy(
            lead,
            PolicySpec(
                name="Standard",
                calendar_id=calendar.pk,
                targets=(TargetSpec(Metric.FIRST_REPLY, Priority.NORMAL, 60),),
            ),
        )
        case = make_case()
    Clock.objects.filter(case=case).update(due_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        management.update_calendar(lead, calendar, CalendarSpec(name="Office", is_always_open=True))

    assert Clock.objects.get(case=case).due_at is not None


def test_a_calendar_without_hours_must_be_always_open(lead: Agent) -> None:
    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_calendar(lead, CalendarSpec(name="Never"))

    assert refused.value.messages == [
        "Give opening hours for at least one weekday, or make the calendar 24/7."
    ]
