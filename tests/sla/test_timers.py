"""Warnings and breaches fire once, at their instant, from deferred tasks that survive restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Channel, Event, EventKind, Priority
from kiwidesk.sla import timers
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from kiwidesk.sla.rebuild import rebuild_clocks
from kiwidesk.sla.tasks import fire_timer, recompute_case
from tests.factories.accounts import AgentFactory
from tests.factories.cases import customer_thread, make_case, make_third_party_thread

OPENED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE_AT = OPENED_AT + timedelta(minutes=60)
WARNS_AT = DUE_AT - timedelta(minutes=10)
FIRE_TIMER = fire_timer.module_path


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(
        name="Standard",
        warn_minutes_before=10,
        warning_notifies=True,
        breach_raises_priority=True,
        breach_tag="sla-breached",
    )
    Target.objects.create(
        policy=policy,
        metric=Metric.FIRST_REPLY,
        priority=Priority.NORMAL,
        minutes=60,
        is_business_time=False,
    )
    return policy


@pytest.fixture
def lead(team: Team) -> Agent:
    return AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead", teams=[team])


def opened_case(agent: Agent, team: Team) -> Case:
    with time_machine.travel(OPENED_AT, tick=False):
        case = make_case(team=team, assignee=agent)
        recompute_case.call(case.pk)
    return case


def queued_timers() -> list[tuple[str, datetime]]:
    rows = DBTaskResult.objects.filter(task_path=FIRE_TIMER, status=TaskResultStatus.READY)
    return sorted((row.args_kwargs["args"][3], row.run_after) for row in rows)


def run_timers_due(at: datetime) -> list[bool]:
    """What the worker does at `at`: run each deferred timer task whose instant has come."""
    due = DBTaskResult.objects.filter(
        task_path=FIRE_TIMER, status=TaskResultStatus.READY, run_after__lte=at
    ).order_by("run_after", "pk")
    results = []
    with time_machine.travel(at, tick=False):
        for row in due:
            results.append(fire_timer.call(*row.args_kwargs["args"]))
            DBTaskResult.objects.filter(pk=row.pk).update(status=TaskResultStatus.SUCCESSFUL)
    return results


def firings(case: Case) -> list[tuple[str, str, str]]:
    return [
        (event.kind, event.payload["metric"], event.payload["due_at"])
        for event in case.events.filter(kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED])
    ]


def test_a_recompute_queues_the_warning_and_the_breach_at_their_instants(
    policy: Policy, agent: Agent, team: Team
) -> None:
    opened_case(agent, team)

    assert queued_timers() == [("breach", DUE_AT), ("warning", WARNS_AT)]


def test_nothing_fires_before_its_instant(policy: Policy, agent: Agent, team: Team) -> None:
    case = opened_case(agent, team)

    run_timers_due(WARNS_AT - timedelta(seconds=1))

    assert firings(case) == []


def test_the_warning_fires_at_its_instant_and_emails_the_assignee_and_the_team_lead(
    policy: Policy, agent: Agent, lead: Agent, team: Team, mailoutbox: list[Any]
) -> None:
    case = opened_case(agent, team)

    run_timers_due(WARNS_AT)

    assert firings(case) == [("sla_warning", "first_reply", DUE_AT.isoformat())]
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (
            ["agent@kiwidesk.test", "lead@kiwidesk.test"],
            f"[Kiwidesk] Case #{case.pk}: First reply is due soon",
        )
    ]


def test_the_breach_fires_at_the_due_instant_raises_the_priority_and_tags_the_case(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)

    run_timers_due(DUE_AT)

    case.refresh_from_db()
    assert firings(case)[-1] == ("sla_breached", "first_reply", DUE_AT.isoformat())
    assert case.priority == Priority.HIGH
    assert list(case.tags.values_list("name", flat=True)) == ["sla-breached"]
    breach = case.events.get(kind=EventKind.SLA_BREACHED)
    assert breach.payload["actions"] == ["priority raised to high", "tagged sla-breached"]


def test_each_firing_happens_once_though_its_task_runs_twice(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)
    timers.schedule(timers.case_timers(case.pk))

    results = run_timers_due(WARNS_AT) + run_timers_due(DUE_AT)

    assert results == [True, False, True, False]
    assert [kind for kind, _, _ in firings(case)] == ["sla_warning", "sla_breached"]


def test_a_firing_whose_marker_a_recompute_wiped_does_not_fire_again(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)
    run_timers_due(WARNS_AT)
    with time_machine.travel(WARNS_AT + timedelta(seconds=5), tick=False):
        recompute_case.call(case.pk)

    warning = timers.timer_from_args(case.pk, "first_reply", None, "warning", DUE_AT.isoformat())
    fired = timers.fire(warning, now=WARNS_AT + timedelta(seconds=6))

    assert fired is False
    assert len(firings(case)) == 1


def test_an_achieved_clock_fires_nothing(policy: Policy, agent: Agent, team: Team) -> None:
    case = opened_case(agent, team)
    with time_machine.travel(OPENED_AT + timedelta(minutes=5), tick=False):
        cases.reply(agent, customer_thread(case), text="We are looking into it.")
        recompute_case.call(case.pk)

    run_timers_due(DUE_AT + timedelta(minutes=1))

    assert firings(case) == []


def test_a_clock_achieved_while_no_worker_ran_fires_nothing_at_the_restart(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)
    with time_machine.travel(OPENED_AT + timedelta(minutes=5), tick=False):
        cases.reply(agent, customer_thread(case), text="We are looking into it.")

    with time_machine.travel(DUE_AT + timedelta(minutes=3), tick=False):
        fired = timers.start()

    assert fired == 0
    assert Clock.objects.get(case=case).state == "achieved"


def test_a_retargeted_clock_fires_at_its_new_instant_not_the_old(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.LOW, minutes=120,
        is_business_time=False,
    )  # fmt: skip
    case = opened_case(agent, team)
    with time_machine.travel(OPENED_AT + timedelta(minutes=5), tick=False):
        cases.update_case(agent, case, {"priority": Priority.LOW})
        recompute_case.call(case.pk)

    new_due = OPENED_AT + timedelta(minutes=120)
    for instant in (WARNS_AT, DUE_AT, new_due - timedelta(minutes=10), new_due):
        run_timers_due(instant)

    assert firings(case) == [
        ("sla_warning", "first_reply", new_due.isoformat()),
        ("sla_breached", "first_reply", new_due.isoformat()),
    ]


def test_a_lost_task_is_fired_by_the_sweep_when_the_worker_starts_again(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()

    with time_machine.travel(DUE_AT + timedelta(minutes=3), tick=False):
        fired = timers.start()

    assert fired == 1
    assert [kind for kind, _, _ in firings(case)] == ["sla_breached"]


def test_the_worker_start_keeps_one_periodic_sweep_queued(policy: Policy) -> None:
    timers.start()
    timers.start()

    sweeps = DBTaskResult.objects.filter(task_path="kiwidesk.sla.tasks.sweep_timers")
    assert sweeps.count() == 1


def test_the_sweep_fires_a_warning_whose_task_was_lost(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()

    fired = timers.sweep(now=WARNS_AT + timedelta(minutes=1))

    assert fired == 1
    assert [kind for kind, _, _ in firings(case)] == ["sla_warning"]


def test_a_failing_action_is_pushed_forward_instead_of_crash_looping(
    policy: Policy, agent: Agent, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()
    monkeypatch.setattr(timers.actions, "perform", broken_action)
    now = DUE_AT + timedelta(seconds=2)

    first = timers.sweep(now=now)
    second = timers.sweep(now=now + timedelta(minutes=1))

    assert (first, second) == (0, 0)
    assert firings(case) == []
    assert Clock.objects.get(case=case).check_after == now + timers.RETRY_AFTER
    assert queued_timers() == [("breach", now + timers.RETRY_AFTER)]


def broken_action(case: Case, escalation: Any) -> list[str]:
    raise RuntimeError("the mail relay refused the connection")


def test_the_retry_fires_once_the_action_works_again(
    policy: Policy, agent: Agent, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()
    with monkeypatch.context() as patched:
        patched.setattr(timers.actions, "perform", broken_action)
        timers.sweep(now=DUE_AT)

    run_timers_due(DUE_AT + timers.RETRY_AFTER)

    assert [kind for kind, _, _ in firings(case)] == ["sla_breached"]


def test_after_a_full_rebuild_the_timers_of_the_next_hours_are_queued(
    policy: Policy, agent: Agent, team: Team
) -> None:
    opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()

    queued = timers.schedule_upcoming(now=OPENED_AT + timedelta(minutes=55))

    assert queued == 1
    assert queued_timers() == [("breach", DUE_AT)]


def test_after_a_full_rebuild_a_breach_it_found_in_the_last_hours_fires_once(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()
    rebuilt_at = DUE_AT + timedelta(minutes=20)
    rebuild_clocks(as_of=rebuilt_at)

    queued = timers.schedule_upcoming(now=rebuilt_at)
    run_timers_due(rebuilt_at)
    rebuild_clocks(as_of=rebuilt_at + timedelta(minutes=1))
    timers.schedule_upcoming(now=rebuilt_at + timedelta(minutes=1))
    run_timers_due(rebuilt_at + timedelta(minutes=1))

    assert queued == 1
    assert firings(case) == [("sla_breached", "first_reply", DUE_AT.isoformat())]


def test_after_a_full_rebuild_a_breach_older_than_the_horizon_is_not_fired(
    policy: Policy, agent: Agent, team: Team
) -> None:
    opened_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()
    rebuilt_at = DUE_AT + timers.REBUILD_HORIZON + timedelta(minutes=1)
    rebuild_clocks(as_of=rebuilt_at)

    queued = timers.schedule_upcoming(now=rebuilt_at)

    assert queued == 0
    assert queued_timers() == []


def test_the_breach_event_reads_as_one_line_on_the_timeline(
    policy: Policy, agent: Agent, team: Team, settings: Any
) -> None:
    from kiwidesk.web.templatetags.kiwidesk_web import event_summary

    settings.TIME_ZONE = "UTC"
    case = opened_case(agent, team)
    run_timers_due(DUE_AT)

    breach = Event.objects.get(case=case, kind=EventKind.SLA_BREACHED)

    assert event_summary(breach) == "First reply breached (due 10:00)"


def test_a_third_party_clock_breaches_on_its_own_thread(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Target.objects.create(
        policy=policy, metric=Metric.THIRD_PARTY_RESPONSE, priority=Priority.NORMAL, minutes=30,
        is_business_time=False,
    )  # fmt: skip
    case = opened_case(agent, team)
    with time_machine.travel(OPENED_AT + timedelta(minutes=1), tick=False):
        vendor = make_third_party_thread(agent, case, channel=Channel.EMAIL)
        cases.reply(agent, vendor, text="Could you check the booking?")
        recompute_case.call(case.pk)
    vendor_due = OPENED_AT + timedelta(minutes=31)

    run_timers_due(vendor_due)

    breach = case.events.get(kind=EventKind.SLA_BREACHED)
    assert (breach.thread, breach.payload["due_at"]) == (vendor, vendor_due.isoformat())
    party = vendor.contact.organisation
    assert breach.payload["clock"] == f"Third-party response — {party.name}"


def test_a_warning_that_raises_the_priority_past_its_shorter_target_breaches_at_once(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Policy.objects.filter(pk=policy.pk).update(warning_raises_priority=True)
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.HIGH, minutes=30,
        is_business_time=False,
    )  # fmt: skip
    case = opened_case(agent, team)
    run_timers_due(WARNS_AT)
    with time_machine.travel(WARNS_AT + timedelta(seconds=1), tick=False):
        recompute_case.call(case.pk)

    run_timers_due(WARNS_AT + timedelta(seconds=1))

    shorter_due = OPENED_AT + timedelta(minutes=30)
    assert firings(case) == [
        ("sla_warning", "first_reply", DUE_AT.isoformat()),
        ("sla_breached", "first_reply", shorter_due.isoformat()),
    ]
