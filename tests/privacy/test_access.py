from __future__ import annotations

import pytest

from kiwidesk.cases.models import Sensitivity
from kiwidesk.privacy.access import CaseNotFoundError, Purpose, access_case, visible_cases
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.factories.cases import make_case


def audit_outcomes() -> list[tuple[str, str, str]]:
    return list(AuditRecord.objects.values_list("action", "object_id", "outcome"))


@pytest.mark.django_db
def test_agent_opens_a_normal_case_and_the_read_is_audited(agent):
    case = make_case()

    opened = access_case(agent, case.pk, Purpose.VIEW)

    assert opened == case
    assert audit_outcomes() == [(Purpose.VIEW, str(case.pk), AuditOutcome.GRANTED)]


@pytest.mark.django_db
def test_clinical_case_is_hidden_from_an_agent_without_clearance(agent):
    case = make_case(sensitivity=Sensitivity.CLINICAL)

    with pytest.raises(CaseNotFoundError):
        access_case(agent, case.pk, Purpose.VIEW)

    record = AuditRecord.objects.get()
    assert (record.outcome, record.reason) == (AuditOutcome.DENIED, "needs clinical clearance")
    assert list(visible_cases(agent)) == []


@pytest.mark.django_db
def test_cleared_agent_with_a_verified_second_factor_opens_a_clinical_case(clinical_agent):
    case = make_case(sensitivity=Sensitivity.CLINICAL)
    clinical_agent.is_verified = lambda: True

    assert access_case(clinical_agent, case.pk, Purpose.CHANGE) == case
    assert list(visible_cases(clinical_agent)) == [case]


@pytest.mark.django_db
def test_missing_case_looks_exactly_like_a_forbidden_one(agent):
    with pytest.raises(CaseNotFoundError):
        access_case(agent, 424242, Purpose.VIEW)

    assert audit_outcomes() == []


@pytest.mark.django_db
def test_deactivated_agent_sees_nothing(agent):
    case = make_case()
    agent.is_active = False
    agent.save()

    with pytest.raises(CaseNotFoundError):
        access_case(agent, case.pk, Purpose.VIEW)

    assert audit_outcomes() == [(Purpose.VIEW, str(case.pk), AuditOutcome.DENIED)]
    assert list(visible_cases(agent)) == []


@pytest.mark.django_db
def test_confidential_clearance_does_not_reach_clinical_content(agent):
    agent.clearance = "confidential"
    agent.save()
    confidential = make_case(sensitivity=Sensitivity.CONFIDENTIAL)
    make_case(sensitivity=Sensitivity.CLINICAL)

    assert list(visible_cases(agent)) == [confidential]


@pytest.mark.django_db
def test_agent_cannot_mark_a_case_more_sensitive_than_their_clearance(agent, clinical_agent):
    from kiwidesk.privacy.access import ClearanceError, ensure_cleared_for

    ensure_cleared_for(clinical_agent, Sensitivity.CLINICAL)
    with pytest.raises(ClearanceError, match="clinical"):
        ensure_cleared_for(agent, Sensitivity.CLINICAL)
