"""Leads manage SLA policies and calendars: validated, audited, and the clocks follow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent, Team
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


# What a warning and a breach do, and the follow-up reminders ---------------------------


def test_a_lead_sets_what_a_warning_and_a_breach_do(
    lead: Agent, team: Team, teammate: Agent
) -> None:
    spec = PolicySpec(
        name="Standard",
        warn_minutes_before=30,
        warning_notifies=True,
        warning_team_id=team.pk,
        breach_raises_priority=True,
        breach_assignee_id=teammate.pk,
        breach_tag="  SLA   Breached ",
        follow_up_limit=5,
        solves_after_follow_ups=True,
        follow_up_message=" Are you still there? ",
        solve_notice="We closed your case.",
    )

    policy = management.create_policy(lead, spec)

    policy.refresh_from_db()
    assert (policy.warn_minutes_before, policy.warning_notifies, policy.warning_team_id) == (
        30,
        True,
        team.pk,
    )
    assert (policy.breach_raises_priority, policy.breach_assignee_id, policy.breach_tag) == (
        True,
        teammate.pk,
        "sla breached",
    )
    assert (
        policy.follow_up_limit,
        policy.solves_after_follow_ups,
        policy.follow_up_message,
        policy.solve_notice,
    ) == (5, True, "Are you still there?", "We closed your case.")


def test_the_saved_settings_read_back_as_the_spec_that_set_them(
    lead: Agent, team: Team, teammate: Agent
) -> None:
    spec = PolicySpec(
        name="Standard",
        targets=(FIRST_REPLY_HOUR,),
        warn_minutes_before=15,
        warning_assignee_id=teammate.pk,
        warning_tag="vip",
        breach_notifies=True,
        breach_team_id=team.pk,
        follow_up_limit=0,
    )

    policy = management.create_policy(lead, spec)

    assert management.policy_spec(Policy.objects.get(pk=policy.pk)) == spec


def test_a_change_of_the_breach_actions_is_audited(lead: Agent) -> None:
    policy = management.create_policy(lead, PolicySpec(name="Standard"))

    management.update_policy(lead, policy, PolicySpec(name="Standard", breach_tag="late"))

    audited = AuditRecord.objects.filter(object_type="sla_policy", object_id=str(policy.pk))
    assert list(audited.values_list("action", flat=True).order_by("pk")) == [
        "sla.policy.create",
        "sla.policy.update",
    ]
    assert Policy.objects.get(pk=policy.pk).breach_tag == "late"


def test_an_unknown_team_and_a_deactivated_assignee_are_refused_by_field(
    lead: Agent, teammate: Agent
) -> None:
    teammate.is_active = False
    teammate.save()
    spec = PolicySpec(name="Standard", warning_team_id=999_999, breach_assignee_id=teammate.pk)

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_policy(lead, spec)

    assert refused.value.by_field == {
        "warning_team_id": ["On warning: there is no team 999999."],
        "breach_assignee_id": ["On breach: Agent Two is deactivated and cannot take cases."],
    }
    assert Policy.objects.count() == 0


def test_an_unknown_assignee_is_refused(lead: Agent) -> None:
    spec = PolicySpec(name="Standard", warning_assignee_id=999_999)

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_policy(lead, spec)

    assert refused.value.messages == ["On warning: there is no agent 999999."]


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("late, escalated", "On breach: a tag is one word or phrase, without commas."),
        ("x" * 51, "On breach: a tag is at most 50 characters."),
        ("late\x00", "On breach: the tag may not hold a NUL character."),
    ],
)
def test_a_tag_a_case_could_not_carry_is_refused(lead: Agent, tag: str, message: str) -> None:
    policy = management.create_policy(lead, PolicySpec(name="Standard"))

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.update_policy(lead, policy, PolicySpec(name="Standard", breach_tag=tag))

    assert refused.value.by_field == {"breach_tag": [message]}
    assert Policy.objects.get(pk=policy.pk).breach_tag == ""


@pytest.mark.parametrize(
    ("changes", "by_field"),
    [
        (
            {"warn_minutes_before": 0},
            {
                "warn_minutes_before": [
                    "Warn at least 1 minute before a clock is due, "
                    "or leave it empty for no warning."
                ]
            },
        ),
        (
            {"warn_minutes_before": 525_601},
            {
                "warn_minutes_before": [
                    "Warn at most a year (525600 minutes) before a clock is due."
                ]
            },
        ),
        ({"follow_up_limit": 21}, {"follow_up_limit": ["Send from 0 to 20 follow-up reminders."]}),
        ({"follow_up_limit": -1}, {"follow_up_limit": ["Send from 0 to 20 follow-up reminders."]}),
        ({"follow_up_message": "  "}, {"follow_up_message": ["The reminder text is empty."]}),
        (
            {"solve_notice": "Closed\x00"},
            {"solve_notice": ["The solve notice may not hold a NUL character."]},
        ),
        (
            {"solve_notice": "x" * 10_001},
            {"solve_notice": ["The solve notice is longer than 10000 characters."]},
        ),
    ],
)
def test_warning_and_follow_up_settings_out_of_range_are_refused(
    lead: Agent, changes: dict[str, Any], by_field: dict[str, list[str]]
) -> None:
    spec = PolicySpec(name="Standard", **changes)

    with pytest.raises(SlaSettingsInvalidError) as refused:
        management.create_policy(lead, spec)

    assert refused.value.by_field == by_field
    assert Policy.objects.count() == 0


def test_one_minute_of_warning_and_twenty_reminders_are_allowed(lead: Agent) -> None:
    spec = PolicySpec(name="Standard", warn_minutes_before=1, follow_up_limit=20)

    policy = management.create_policy(lead, spec)

    assert (policy.warn_minutes_before, policy.follow_up_limit) == (1, 20)
