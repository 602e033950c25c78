"""Break-glass: a stated reason, a time limit, the leads told, every step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from kiwidesk.accounts.models import Clearance, Role
from kiwidesk.cases import services
from kiwidesk.cases.models import EventKind, Sensitivity
from kiwidesk.privacy import break_glass
from kiwidesk.privacy.access import (
    ActionNotAllowedError,
    ClearanceRequiredError,
    Purpose,
    SecondFactorRequiredError,
    access_case,
    content_scope,
    visible_cases,
)
from kiwidesk.privacy.break_glass import AlreadyClearedError, BreakGlassRefusedError
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

REASON = "Customer on the phone, clinician locked out before a session"


@pytest.fixture
def lead(team):
    return AgentFactory(email="lead@kiwidesk.test", role=Role.LEAD, teams=[team])


@pytest.mark.django_db(databases="__all__")
def test_breaking_the_glass_opens_the_case_tells_the_lead_and_is_on_record(
    agent, team, lead, django_capture_on_commit_callbacks
):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL, team=team)
    with pytest.raises(ClearanceRequiredError):
        access_case(agent, case.pk, Purpose.VIEW)

    with django_capture_on_commit_callbacks(execute=True):
        grant = break_glass.open_grant(agent, case.pk, reason=REASON, minutes=30)

    assert access_case(agent, case.pk, Purpose.REPLY) == case
    assert list(visible_cases(agent)) == [case]
    assert grant.expires_at - grant.granted_at == timedelta(minutes=30)
    event = case.events.get(kind=EventKind.BREAK_GLASS)
    assert (event.actor, event.payload["reason"]) == (agent, REASON)
    assert AuditRecord.objects.filter(
        action="case.break_glass", object_id=str(case.pk), reason=REASON
    ).exists()
    assert AuditRecord.objects.filter(
        action=Purpose.REPLY, outcome=AuditOutcome.GRANTED, reason=f"break-glass #{grant.pk}"
    ).exists()
    [notice] = mail.outbox
    assert notice.to == ["lead@kiwidesk.test"]
    assert REASON in notice.body
    assert f"#{case.pk}" in notice.subject
    assert "froze again" not in notice.body  # the case's content stays out of the mail


@pytest.mark.django_db(databases="__all__")
def test_the_grant_runs_out(agent, team, lead):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL, team=team)
    break_glass.open_grant(agent, case.pk, reason=REASON, minutes=15)

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        with pytest.raises(ClearanceRequiredError):
            access_case(agent, case.pk, Purpose.VIEW)
        assert list(visible_cases(agent)) == []


@pytest.mark.django_db(databases="__all__")
def test_ending_the_grant_closes_the_case_again(agent, team, lead):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL, team=team)
    break_glass.open_grant(agent, case.pk, reason=REASON)

    assert break_glass.end_grant(agent, case.pk)

    with pytest.raises(ClearanceRequiredError):
        access_case(agent, case.pk, Purpose.VIEW)
    assert not break_glass.end_grant(agent, case.pk)


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("reason", "minutes", "message"),
    [
        ("because", 60, "at least 10 characters"),
        ("   ", 60, "at least 10 characters"),
        ("x" * 501, 60, "under 500"),
        (REASON, 600, "15, 30, 60, 120"),
    ],
)
def test_a_break_glass_without_a_real_reason_or_limit_is_refused(agent, reason, minutes, message):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    with pytest.raises(BreakGlassRefusedError, match=message):
        break_glass.open_grant(agent, case.pk, reason=reason, minutes=minutes)

    assert not case.break_glass_grants.exists()


@pytest.mark.django_db(databases="__all__")
def test_no_break_glass_where_the_clearance_already_covers(agent):
    case = make_case()

    with pytest.raises(AlreadyClearedError):
        break_glass.open_grant(agent, case.pk, reason=REASON)


@pytest.mark.django_db(databases="__all__")
def test_a_qa_reviewer_cannot_break_the_glass():
    reviewer = AgentFactory(role=Role.QA)
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    with pytest.raises(ActionNotAllowedError):
        break_glass.open_grant(reviewer, case.pk, reason=REASON)


@pytest.mark.django_db(databases="__all__")
def test_clinical_content_still_needs_the_second_factor_under_break_glass(agent, team, lead):
    case = make_case(sensitivity=Sensitivity.CLINICAL, team=team)
    break_glass.open_grant(agent, case.pk, reason=REASON)

    with pytest.raises(SecondFactorRequiredError):
        access_case(agent, case.pk, Purpose.VIEW)
    assert list(visible_cases(agent)) == []

    agent.is_verified = lambda: True
    assert access_case(agent, case.pk, Purpose.VIEW) == case


@pytest.mark.django_db(databases="__all__")
def test_a_clinical_note_in_a_normal_case_shows_only_within_clearance(agent, team, lead):
    case = make_case(team=team)
    author = AgentFactory(clearance=Clearance.CLINICAL)

    services.add_note(author, case, text="Diagnosis discussed", sensitivity=Sensitivity.CLINICAL)

    assert not content_scope(agent, case).shows(Sensitivity.CLINICAL)
    assert break_glass.needs_break_glass(agent, case)
    assert break_glass.highest_sensitivity(case) == Sensitivity.CLINICAL

    break_glass.open_grant(agent, case.pk, reason=REASON)
    agent.is_verified = lambda: True
    assert content_scope(agent, case).shows(Sensitivity.CLINICAL)


@pytest.mark.django_db(databases="__all__")
def test_without_leads_on_the_team_every_active_lead_is_told(agent, other_team):
    AgentFactory(email="lead-a@kiwidesk.test", role=Role.LEAD, teams=[other_team])
    AgentFactory(email="lead-b@kiwidesk.test", role=Role.LEAD, is_active=False)
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    assert break_glass.lead_addresses(case) == ["lead-a@kiwidesk.test"]


@pytest.mark.django_db(databases="__all__")
def test_the_grant_is_looked_up_once_for_every_withheld_message(
    agent, team, lead, django_assert_num_queries
):
    case = make_case(team=team)
    author = AgentFactory(clearance=Clearance.CONFIDENTIAL)
    services.add_note(author, case, text="Family matter", sensitivity="confidential")
    break_glass.open_grant(agent, case.pk, reason=REASON)
    scope = content_scope(agent, case)

    with django_assert_num_queries(1):
        shown = [scope.shows(Sensitivity.CONFIDENTIAL), scope.shows(Sensitivity.CONFIDENTIAL)]

    assert shown == [True, True]
    assert scope.shows(Sensitivity.NORMAL)
