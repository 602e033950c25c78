"""Every role x sensitivity x action through the one gate, written out by hand.

The table below is the policy as docs/privacy.md states it, not a copy of the code's
table: change one and this test says which cell moved.
"""

from __future__ import annotations

import itertools

import pytest

from kiwidesk.accounts.models import Agent, Clearance, Role
from kiwidesk.cases.models import Sensitivity
from kiwidesk.privacy.access import (
    ActionNotAllowedError,
    ClearanceRequiredError,
    Purpose,
    SecondFactorRequiredError,
    access_case,
    visible_cases,
)
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

V, N, R, C, M, P = "view", "note", "reply", "change", "merge", "reveal"
ACTIONS = {
    V: Purpose.VIEW,
    N: Purpose.NOTE,
    R: Purpose.REPLY,
    C: Purpose.CHANGE,
    M: Purpose.MERGE,
    P: Purpose.REVEAL,
}
ALLOWED = {
    Role.AGENT: {V, N, R, C, M, P},
    Role.LEAD: {V, N, R, C, M, P},
    Role.ADMIN: {V, N, R, C, M, P},
    Role.ENGINEER: {V, N, C, M},
    Role.QA: {V},
}
SENSITIVITIES = [Sensitivity.NORMAL, Sensitivity.CONFIDENTIAL, Sensitivity.CLINICAL]
CLEARANCES = [Clearance.NORMAL, Clearance.CONFIDENTIAL, Clearance.CLINICAL]
RANK = {"normal": 0, "confidential": 1, "clinical": 2}


def verified(agent: Agent, yes: bool = True) -> Agent:
    """As django-otp's middleware leaves a session that passed (or not) the second factor."""
    agent.is_verified = lambda: yes  # type: ignore[attr-defined]
    return agent


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("role", "sensitivity", "action"),
    list(itertools.product(ALLOWED, SENSITIVITIES, ACTIONS)),
)
def test_a_cleared_verified_agent_may_do_what_the_role_allows(role, sensitivity, action):
    agent = verified(AgentFactory(role=role, clearance=Clearance.CLINICAL))
    case = make_case(sensitivity=sensitivity)

    if action in ALLOWED[role]:
        assert access_case(agent, case.pk, ACTIONS[action]) == case
        outcome = AuditOutcome.GRANTED
    else:
        with pytest.raises(ActionNotAllowedError):
            access_case(agent, case.pk, ACTIONS[action])
        outcome = AuditOutcome.DENIED

    record = AuditRecord.objects.get(action=ACTIONS[action])
    assert (record.object_id, record.outcome, record.actor_id) == (str(case.pk), outcome, agent.pk)


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("clearance", "sensitivity", "second_factor"),
    list(itertools.product(CLEARANCES, SENSITIVITIES, [True, False])),
)
def test_clearance_and_second_factor_decide_which_cases_open(clearance, sensitivity, second_factor):
    agent = verified(AgentFactory(role=Role.AGENT, clearance=clearance), second_factor)
    case = make_case(sensitivity=sensitivity)

    if RANK[sensitivity] > RANK[clearance]:
        with pytest.raises(ClearanceRequiredError) as refused:
            access_case(agent, case.pk, Purpose.VIEW)
        assert refused.value.may_break_glass
        assert list(visible_cases(agent)) == []
    elif sensitivity == Sensitivity.CLINICAL and not second_factor:
        with pytest.raises(SecondFactorRequiredError):
            access_case(agent, case.pk, Purpose.VIEW)
        assert list(visible_cases(agent)) == []
    else:
        assert access_case(agent, case.pk, Purpose.VIEW) == case
        assert list(visible_cases(agent)) == [case]


@pytest.mark.django_db(databases="__all__")
def test_a_qa_reviewer_above_their_clearance_is_not_offered_break_glass():
    reviewer = AgentFactory(role=Role.QA, clearance=Clearance.NORMAL)
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    with pytest.raises(ClearanceRequiredError) as refused:
        access_case(reviewer, case.pk, Purpose.VIEW)

    assert not refused.value.may_break_glass
