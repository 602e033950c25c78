"""The one place that decides who may see which case, and writes the audit record.

Every read of case content by the web UI or the API goes through `access_case` (one
case) or `visible_cases` (lists). A refusal is indistinguishable from a missing case,
so ids cannot be probed.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kiwidesk.accounts.models import Agent, Clearance
from kiwidesk.cases.models import Case, Sensitivity
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome

_CLEARED_FOR: dict[str, tuple[str, ...]] = {
    Clearance.NORMAL: (Sensitivity.NORMAL,),
    Clearance.CONFIDENTIAL: (Sensitivity.NORMAL, Sensitivity.CONFIDENTIAL),
    Clearance.CLINICAL: (Sensitivity.NORMAL, Sensitivity.CONFIDENTIAL, Sensitivity.CLINICAL),
}


class CaseNotFoundError(LookupError):
    """No such case, or not one this agent may open: the two are never told apart."""


class ClearanceError(PermissionError):
    """The agent asked to make a case more sensitive than they could open afterwards."""


class Purpose:
    VIEW = "case.view"
    CHANGE = "case.change"
    REPLY = "case.reply"
    MERGE = "case.merge"


def sensitivities_for(agent: Agent) -> tuple[str, ...]:
    return _CLEARED_FOR.get(agent.clearance, (Sensitivity.NORMAL,))


def visible_cases(agent: Agent) -> QuerySet[Case]:
    """The cases this agent may list: none for an inactive agent, else by clearance."""
    if not agent.is_active:
        return Case.objects.none()
    cleared = sensitivities_for(agent)
    if len(cleared) == len(Sensitivity.values):
        return Case.objects.all()
    return Case.objects.filter(sensitivity__in=cleared)


def ensure_cleared_for(agent: Agent, sensitivity: str) -> None:
    """Refuse to open or mark a case at a sensitivity the agent could not open afterwards."""
    if sensitivity not in sensitivities_for(agent):
        raise ClearanceError(f"Your clearance does not allow a {sensitivity} case.")


def access_case(agent: Agent, case_id: int, purpose: str) -> Case:
    """Return case `case_id` if `agent` may use it for `purpose`, and audit the decision.

    Raises CaseNotFoundError for a missing case and for a refused one alike.
    """
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFoundError(case_id)
    if not agent.is_active:
        _audit(agent, case, purpose, AuditOutcome.DENIED, "inactive agent")
        raise CaseNotFoundError(case_id)
    if case.sensitivity not in sensitivities_for(agent):
        _audit(agent, case, purpose, AuditOutcome.DENIED, f"needs {case.sensitivity} clearance")
        raise CaseNotFoundError(case_id)
    _audit(agent, case, purpose, AuditOutcome.GRANTED, "")
    return case


def _audit(agent: Agent, case: Case, purpose: str, outcome: str, reason: str) -> None:
    audit.record(agent, purpose, "case", case.pk, outcome, reason)
