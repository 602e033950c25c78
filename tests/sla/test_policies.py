"""The first active policy, by position, whose conditions all match the case applies."""

from __future__ import annotations

import pytest

from kiwidesk.sla.models import Policy
from kiwidesk.sla.policies import CaseTraits, active_policies, applicable_policy

CASE = CaseTraits(
    tier="vip",
    priority="high",
    channel="email",
    category="billing",
    tags=frozenset({"refund", "angry"}),
    sensitivity="normal",
)


def chosen(case: CaseTraits = CASE) -> str | None:
    policy = applicable_policy(active_policies(), case)
    return None if policy is None else Policy.objects.get(pk=policy.policy_id).name


def test_the_first_matching_policy_by_position_wins(db: None) -> None:
    Policy.objects.create(name="Later", position=20)
    Policy.objects.create(name="Earlier", position=10)

    assert chosen() == "Earlier"


def test_a_policy_whose_condition_fails_is_skipped(db: None) -> None:
    Policy.objects.create(name="WhatsApp only", position=1, channels=["whatsapp"])
    Policy.objects.create(name="Everything", position=2)

    assert chosen() == "Everything"


def test_an_inactive_policy_never_applies(db: None) -> None:
    Policy.objects.create(name="Switched off", position=1, is_active=False)

    assert chosen() is None


@pytest.mark.parametrize(
    "conditions",
    [
        {"tiers": ["vip"]},
        {"priorities": ["high", "urgent"]},
        {"channels": ["email"]},
        {"categories": ["billing"]},
        {"tags": ["refund", "other"]},
        {"sensitivities": ["normal"]},
    ],
)
def test_each_condition_matches_a_case_that_has_one_of_its_values(
    db: None, conditions: dict[str, list[str]]
) -> None:
    Policy.objects.create(name="Matching", **conditions)

    assert chosen() == "Matching"


@pytest.mark.parametrize(
    "conditions",
    [
        {"tiers": ["standard"]},
        {"priorities": ["low"]},
        {"channels": ["sms"]},
        {"categories": ["clinical"]},
        {"tags": ["vip-only"]},
        {"sensitivities": ["clinical"]},
    ],
)
def test_each_condition_refuses_a_case_that_has_none_of_its_values(
    db: None, conditions: dict[str, list[str]]
) -> None:
    Policy.objects.create(name="Not matching", **conditions)

    assert chosen() is None
