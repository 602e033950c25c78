"""Clocks stored from real cases' events: recompute one case, rebuild all, re-target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Channel, Priority, Status
from kiwidesk.contacts.models import Tier
from kiwidesk.sla import services
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from tests.factories.cases import customer_thread, make_case, make_third_party_thread
from tests.factories.contacts import ContactFactory, OrganisationFactory

OPENED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def minute(n: float) -> datetime:
    return OPENED_AT + timedelta(minutes=n)


def add_targets(policy: Policy, priority: str, minutes: int, *metrics: Metric) -> None:
    for metric in metrics:
        Target.objects.create(
            policy=policy, metric=metric, priority=priority, minutes=minutes, is_business_time=False
        )


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(name="Standard", position=10)
    add_targets(policy, Priority.NORMAL, 60, *Metric)
    add_targets(policy, Priority.URGENT, 15, Metric.FIRST_REPLY, Metric.RESOLUTION)
    return policy


def clocks_of(case_id: int) -> dict[str, Clock]:
    return {c.metric: c for c in Clock.objects.filter(case_id=case_id, thread=None)}


def test_recompute_stores_each_clock_the_case_owes(policy: Policy) -> None:
    case = make_case(at=OPENED_AT)

    count = services.recompute_case(case.pk, as_of=minute(10))

    clocks = clocks_of(case.pk)
    assert count == 4
    assert sorted(clocks) == ["agent_work", "customer_wait", "first_reply", "resolution"]
    first = clocks["first_reply"]
    assert (first.state, first.started_at, first.due_at, first.elapsed_seconds) == (
        "active",
        OPENED_AT,
        minute(60),
        600,
    )
    assert first.policy_id == policy.pk


def test_a_public_reply_achieves_first_reply_in_the_stored_clock(
    policy: Policy, agent: Agent
) -> None:
    case = make_case(at=OPENED_AT)
    cases.reply(agent, customer_thread(case), text="We are on it.", at=minute(20))

    services.recompute_case(case.pk, as_of=minute(30))

    first = clocks_of(case.pk)["first_reply"]
    assert (first.state, first.stopped_at, first.due_at) == ("achieved", minute(20), None)


def test_recompute_replaces_the_clocks_it_stored_before(policy: Policy, agent: Agent) -> None:
    case = make_case(at=OPENED_AT)
    services.recompute_case(case.pk, as_of=minute(10))
    cases.update_case(agent, case, {"status": Status.SOLVED}, at=minute(30))

    services.recompute_case(case.pk, as_of=minute(40))

    states = {c.metric: c.state for c in Clock.objects.filter(case=case)}
    assert states == {
        "agent_work": "achieved",
        "customer_wait": "achieved",
        "first_reply": "achieved",
        "resolution": "achieved",
    }


def test_raising_the_priority_retargets_the_clocks_from_their_start(
    policy: Policy, agent: Agent
) -> None:
    case = make_case(at=OPENED_AT)
    services.recompute_case(case.pk, as_of=minute(10))

    cases.update_case(agent, case, {"priority": Priority.URGENT}, at=minute(10))
    services.recompute_case(case.pk, as_of=minute(20))

    clocks = clocks_of(case.pk)
    assert sorted(clocks) == ["first_reply", "resolution"]
    assert (clocks["first_reply"].state, clocks["first_reply"].breached_at) == (
        "breached",
        minute(15),
    )


def test_a_change_of_tier_moves_the_case_to_the_policy_for_that_tier(policy: Policy) -> None:
    vip = Policy.objects.create(name="VIP", position=1, tiers=[Tier.VIP])
    add_targets(vip, Priority.NORMAL, 5, Metric.FIRST_REPLY)
    organisation = OrganisationFactory(tier=Tier.STANDARD)
    case = make_case(customer=ContactFactory(organisation=organisation), at=OPENED_AT)
    services.recompute_case(case.pk, as_of=minute(1))

    organisation.tier = Tier.VIP
    organisation.save()
    services.recompute_case(case.pk, as_of=minute(1))

    (clock,) = Clock.objects.filter(case=case)
    assert (clock.policy_id, clock.metric, clock.due_at) == (vip.pk, "first_reply", minute(5))


def test_a_case_no_policy_matches_owes_no_clocks(policy: Policy) -> None:
    policy.channels = [Channel.WHATSAPP]
    policy.save()
    case = make_case(channel=Channel.EMAIL, at=OPENED_AT)

    count = services.recompute_case(case.pk, as_of=minute(1))

    assert count == 0
    assert Clock.objects.filter(case=case).count() == 0


def test_moving_the_case_to_another_team_restarts_team_ownership(
    policy: Policy, agent: Agent, team: Team, other_team: Team
) -> None:
    case = make_case(team=team, at=OPENED_AT)

    cases.update_case(agent, case, {"team": other_team}, at=minute(50))
    services.recompute_case(case.pk, as_of=minute(70))

    clock = clocks_of(case.pk)["team_ownership"]
    assert (clock.state, clock.started_at, clock.due_at, clock.cycles) == (
        "active",
        minute(50),
        minute(110),
        2,
    )


def test_each_third_party_thread_gets_its_own_clock_with_its_organisations_target(
    policy: Policy, agent: Agent
) -> None:
    clinic = OrganisationFactory(name="Clinic", kind="third_party")
    Target.objects.create(
        policy=policy,
        metric=Metric.THIRD_PARTY_RESPONSE,
        priority=Priority.NORMAL,
        minutes=10,
        is_business_time=False,
        organisation=clinic,
    )
    case = make_case(at=OPENED_AT)
    restaurant = make_third_party_thread(agent, case, channel=Channel.EMAIL)
    clinic_desk = ContactFactory(name="Clinic desk", organisation=clinic, is_third_party=True)
    clinic_thread = cases.open_thread(agent, case, contact=clinic_desk, channel=Channel.EMAIL)
    cases.reply(agent, restaurant, text="A table for two?", at=minute(5))
    cases.reply(agent, clinic_thread, text="Is Dr Rowe free?", at=minute(5))

    services.recompute_case(case.pk, as_of=minute(8))

    due = dict(
        Clock.objects.filter(case=case, metric="third_party_response").values_list(
            "thread_id", "due_at"
        )
    )
    assert due == {restaurant.pk: minute(65), clinic_thread.pk: minute(15)}


def test_recompute_all_rebuilds_every_case(policy: Policy) -> None:
    first = make_case(at=OPENED_AT)
    second = make_case(at=minute(5))
    Clock.objects.all().delete()

    summary = services.recompute_all(batch=1, as_of=minute(10))

    assert (summary.cases, summary.events, summary.clocks) == (2, 4, 8)
    assert Clock.objects.filter(case=first).count() == 4
    assert Clock.objects.filter(case=second).count() == 4


def test_recompute_all_takes_the_cases_in_an_id_range(policy: Policy) -> None:
    first = make_case(at=OPENED_AT)
    second = make_case(at=minute(5))

    summary = services.recompute_all(as_of=minute(10), first_id=second.pk)

    assert summary.cases == 1
    assert Clock.objects.filter(case=first).count() == 0
    assert Clock.objects.filter(case=second).count() == 4


def test_a_policy_for_a_tag_applies_to_a_case_with_that_tag(policy: Policy) -> None:
    tagged = Policy.objects.create(name="Refunds", position=1, tags=["refund"])
    add_targets(tagged, Priority.NORMAL, 5, Metric.FIRST_REPLY)
    case = make_case(tags=["refund", "billing"], at=OPENED_AT)

    services.recompute_case(case.pk, as_of=minute(1))

    assert list(Clock.objects.filter(case=case).values_list("policy__name", "due_at")) == [
        ("Refunds", minute(5))
    ]


def test_a_case_changed_while_its_range_is_rebuilt_gets_clocks_from_all_its_events(
    policy: Policy, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = make_case(at=OPENED_AT)
    derive = services._derived_rows

    def derive_then_reply(*args: Any, **kwargs: Any) -> Any:
        # The reply lands after the range was read and before it is written: the race
        # a rebuild running next to the worker meets.
        derived = derive(*args, **kwargs)
        cases.reply(agent, customer_thread(case), text="On it.", at=minute(20))
        return derived

    monkeypatch.setattr(services, "_derived_rows", derive_then_reply)
    services.recompute_all(as_of=minute(30))

    first = clocks_of(case.pk)["first_reply"]
    assert (first.state, first.stopped_at) == ("achieved", minute(20))
