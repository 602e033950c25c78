"""Clocks follow the case: every event queues one recompute, after the commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Event, EventKind, Priority
from kiwidesk.contacts.models import Organisation, Tier
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from kiwidesk.sla.tasks import fire_timer, recompute_case, recompute_cases, recompute_organisation
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory, OrganisationFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(name="Standard")
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.NORMAL, minutes=60
    )
    return policy


def test_a_new_case_has_its_clocks_once_its_transaction_commits(
    policy: Policy, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.TASKS = IMMEDIATE

    with django_capture_on_commit_callbacks(execute=True):
        case = make_case()

    assert list(Clock.objects.filter(case=case).values_list("metric", "state")) == [
        ("first_reply", "active")
    ]


def test_a_reply_queues_one_recompute_for_all_its_events(
    policy: Policy, agent: Agent, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    case = make_case()

    with django_capture_on_commit_callbacks(execute=True):
        cases.reply(agent, customer_thread(case), text="We are on it.")

    queued = DBTaskResult.objects.filter(task_path="kiwidesk.sla.tasks.recompute_case")
    assert [r.args_kwargs for r in queued] == [{"args": [case.pk], "kwargs": {}}]


def change_priority_then_fail(agent: Agent, case: Case) -> None:
    with transaction.atomic():
        cases.update_case(agent, case, {"priority": Priority.HIGH})
        raise RuntimeError("the request failed")


def test_a_rolled_back_change_queues_nothing_and_the_next_one_queues_again(
    policy: Policy, agent: Agent, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    case = make_case()

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            change_priority_then_fail(agent, case)
        cases.update_case(agent, case, {"priority": Priority.URGENT})

    queued = DBTaskResult.objects.filter(task_path="kiwidesk.sla.tasks.recompute_case")
    assert queued.count() == 1


def test_the_task_recomputes_the_case(policy: Policy) -> None:
    case = make_case()

    count = recompute_case.call(case.pk)

    assert count == 1
    assert Clock.objects.get(case=case).metric == "first_reply"


def test_an_event_written_outside_a_transaction_queues_its_recompute_at_once(
    transactional_db: None, policy: Policy
) -> None:
    case = make_case()
    DBTaskResult.objects.all().delete()

    Event.objects.create(case=case, kind=EventKind.PRIORITY_CHANGED, payload={"new": "high"})

    queued = DBTaskResult.objects.filter(task_path="kiwidesk.sla.tasks.recompute_case")
    assert [r.args_kwargs for r in queued] == [{"args": [case.pk], "kwargs": {}}]


def test_a_change_of_tier_recomputes_the_organisations_open_cases(
    policy: Policy, settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    policy.position = 10
    policy.save()
    vip = Policy.objects.create(name="VIP", position=1, tiers=[Tier.VIP])
    Target.objects.create(policy=vip, metric=Metric.FIRST_REPLY, priority="normal", minutes=5)
    organisation = OrganisationFactory(tier=Tier.STANDARD)
    case = make_case(customer=ContactFactory(organisation=organisation))
    settings.TASKS = IMMEDIATE

    with django_capture_on_commit_callbacks(execute=True):
        organisation.tier = Tier.VIP
        organisation.save()

    assert Clock.objects.get(case=case).policy_id == vip.pk


def test_a_change_of_tier_queues_the_timers_of_the_new_targets(policy: Policy) -> None:
    policy.position = 10
    policy.save()
    vip = Policy.objects.create(name="VIP", position=1, tiers=[Tier.VIP])
    Target.objects.create(policy=vip, metric=Metric.FIRST_REPLY, priority="normal", minutes=5)
    organisation = OrganisationFactory(tier=Tier.STANDARD)
    case = make_case(customer=ContactFactory(organisation=organisation))
    recompute_case.call(case.pk)
    Organisation.objects.filter(pk=organisation.pk).update(tier=Tier.VIP)

    recomputed = recompute_organisation.call(organisation.pk)

    timers = DBTaskResult.objects.filter(task_path=fire_timer.module_path).order_by("run_after")
    vip_due = Clock.objects.get(case=case).due_at
    assert recomputed == 1
    assert [row.run_after for row in timers] == [vip_due, case.created_at + timedelta(minutes=60)]
    assert vip_due == case.created_at + timedelta(minutes=5)


def test_saving_an_organisation_without_changing_its_tier_queues_nothing(
    policy: Policy, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    organisation = OrganisationFactory(tier=Tier.STANDARD)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        organisation.name = "Renamed Ltd"
        organisation.save()

    assert callbacks == []


def test_recompute_cases_rebuilds_the_clocks_of_each_case_given(policy: Policy) -> None:
    first, second = make_case(), make_case()

    count = recompute_cases.call([first.pk, second.pk])

    assert count == 2
    assert sorted(Clock.objects.values_list("case_id", flat=True)) == sorted([first.pk, second.pk])
