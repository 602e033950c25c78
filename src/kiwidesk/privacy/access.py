"""The one place that decides who may do what with which case, and audits the decision.

Every read and write of case content by the web UI or the API goes through
`access_case` (one case), `visible_cases` (lists) and `content_scope` (which messages
of an opened case show their content). Three things decide:

- the agent's **role** says which actions they may take at all (a QA reviewer reads,
  a support engineer reads, notes and fixes data but does not write to customers);
- their **clearance** says how sensitive a case they may open; an active break-glass
  grant (`privacy.break_glass`) stands in for it on one case for a limited time;
- **clinical** content also needs a second factor verified in this session (or an API
  token with the clinical scope).

A missing case and an inactive agent's request look alike (`CaseNotFoundError`), so
ids cannot be probed; a case above the agent's clearance is named as such
(`ClearanceRequiredError`) so that the agent can break the glass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Clearance, Role
from kiwidesk.cases.models import Case, Message, Sensitivity
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome, BreakGlassGrant

RANK: dict[str, int] = {Sensitivity.NORMAL: 0, Sensitivity.CONFIDENTIAL: 1, Sensitivity.CLINICAL: 2}


class Purpose:
    VIEW = "case.view"
    NOTE = "case.note"
    REPLY = "case.reply"
    CHANGE = "case.change"
    MERGE = "case.merge"
    REVEAL = "pii.reveal"


ALL_ACTIONS = frozenset(
    {Purpose.VIEW, Purpose.NOTE, Purpose.REPLY, Purpose.CHANGE, Purpose.MERGE, Purpose.REVEAL}
)

# What each role may do with a case it may open (docs/privacy.md has the table).
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.AGENT: ALL_ACTIONS,
    Role.LEAD: ALL_ACTIONS,
    Role.ADMIN: ALL_ACTIONS,
    Role.ENGINEER: frozenset({Purpose.VIEW, Purpose.NOTE, Purpose.CHANGE, Purpose.MERGE}),
    Role.QA: frozenset({Purpose.VIEW}),
}

# Roles that may open a case above their clearance for a stated reason.
BREAK_GLASS_ROLES = frozenset({Role.AGENT, Role.LEAD, Role.ENGINEER, Role.ADMIN})

_ROLE_WORDS: dict[str, str] = {
    Role.AGENT: "an agent",
    Role.LEAD: "a support lead",
    Role.QA: "a QA reviewer",
    Role.ENGINEER: "a support engineer",
    Role.ADMIN: "an administrator",
}
_ACTION_WORDS: dict[str, str] = {
    Purpose.VIEW: "open cases",
    Purpose.NOTE: "add notes",
    Purpose.REPLY: "write to customers or third parties",
    Purpose.CHANGE: "change cases",
    Purpose.MERGE: "merge cases",
    Purpose.REVEAL: "reveal personal data",
    "case.break_glass": "open cases above their clearance",
}


class CaseNotFoundError(LookupError):
    """No such case, or an inactive agent asking: the two are never told apart."""


class ClearanceRequiredError(CaseNotFoundError):
    """The case is more sensitive than the agent's clearance; break-glass may open it."""

    def __init__(self, case_id: int, sensitivity: str, *, may_break_glass: bool) -> None:
        super().__init__(case_id)
        self.case_id = case_id
        self.sensitivity = sensitivity
        self.may_break_glass = may_break_glass

    def __str__(self) -> str:
        return f"Case #{self.case_id} is {self.sensitivity}: your clearance does not cover it."


class SecondFactorRequiredError(PermissionError):
    """Clinical content, and the session (or token) has no verified second factor."""

    def __str__(self) -> str:
        return (
            "Clinical content needs a second factor: verify your authenticator code "
            "(or use an API token with the clinical scope)."
        )


class ActionNotAllowedError(PermissionError):
    """The agent's role does not allow this action on any case."""

    def __init__(self, role: str, action: str) -> None:
        super().__init__(role, action)
        self.role = role
        self.action = action

    def __str__(self) -> str:
        who = _ROLE_WORDS.get(self.role, f"a {self.role}")
        return f"{who[0].upper()}{who[1:]} may not {_ACTION_WORDS.get(self.action, self.action)}."


class ClearanceError(PermissionError):
    """The agent asked to make a case more sensitive than they could open afterwards."""


def may(agent: Agent, action: str) -> bool:
    """Whether the agent's role allows `action` at all (for showing or hiding controls)."""
    return agent.is_active and action in ROLE_ACTIONS.get(agent.role, frozenset())


def second_factor_verified(agent: Agent) -> bool:
    """django-otp's middleware (or the API's clinical-scope token) sets `is_verified`."""
    is_verified: Callable[[], bool] | None = getattr(agent, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def sensitivities_for(agent: Agent) -> tuple[str, ...]:
    """The sensitivities the agent's clearance covers (before the second factor)."""
    rank = RANK.get(agent.clearance, 0) if agent.clearance in Clearance.values else 0
    return tuple(level for level, level_rank in RANK.items() if level_rank <= rank)


def _open_sensitivities(agent: Agent) -> tuple[str, ...]:
    """What the agent may open now: clinical only with a verified second factor."""
    cleared = sensitivities_for(agent)
    if Sensitivity.CLINICAL in cleared and not second_factor_verified(agent):
        return tuple(level for level in cleared if level != Sensitivity.CLINICAL)
    return cleared


def visible_cases(agent: Agent) -> QuerySet[Case]:
    """The cases this agent may list: by clearance, plus those under an active grant."""
    if not agent.is_active:
        return Case.objects.none()
    cleared = _open_sensitivities(agent)
    if len(cleared) == len(Sensitivity.values):
        return Case.objects.all()
    granted = _active_grants(agent).values("case_id")
    if not second_factor_verified(agent):
        granted = granted.exclude(case__sensitivity=Sensitivity.CLINICAL)
    return Case.objects.filter(Q(sensitivity__in=cleared) | Q(pk__in=granted))


def ensure_cleared_for(agent: Agent, sensitivity: str) -> None:
    """Refuse to mark a case at a sensitivity the agent could not open afterwards."""
    if sensitivity not in sensitivities_for(agent):
        raise ClearanceError(f"Your clearance does not allow a {sensitivity} case.")


def access_case(agent: Agent, case_id: int, purpose: str) -> Case:
    """Return case `case_id` if `agent` may use it for `purpose`, and audit the decision.

    Raises CaseNotFoundError (missing case, inactive agent), ClearanceRequiredError
    (above the clearance, no active grant), SecondFactorRequiredError (clinical, not
    verified) or ActionNotAllowedError (the role never may).
    """
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFoundError(case_id)
    if not agent.is_active:
        _audit(agent, case, purpose, AuditOutcome.DENIED, "inactive agent")
        raise CaseNotFoundError(case_id)
    grant = None
    if case.sensitivity not in sensitivities_for(agent):
        grant = active_grant(agent, case.pk)
        if grant is None:
            _audit(agent, case, purpose, AuditOutcome.DENIED, f"needs {case.sensitivity} clearance")
            raise ClearanceRequiredError(
                case.pk, case.sensitivity, may_break_glass=agent.role in BREAK_GLASS_ROLES
            )
    if case.sensitivity == Sensitivity.CLINICAL and not second_factor_verified(agent):
        _audit(agent, case, purpose, AuditOutcome.DENIED, "needs a second factor")
        raise SecondFactorRequiredError(case_id)
    if purpose not in ROLE_ACTIONS.get(agent.role, frozenset()):
        _audit(agent, case, purpose, AuditOutcome.DENIED, f"not allowed for role {agent.role}")
        raise ActionNotAllowedError(agent.role, purpose)
    _audit(agent, case, purpose, AuditOutcome.GRANTED, f"break-glass #{grant.pk}" if grant else "")
    return case


class ContentScope:
    """Which messages of an opened case show their content to this agent.

    A message above the clearance shows under an active break-glass grant on the case;
    the grant is looked up only when such a message comes, so most pages pay nothing.
    """

    def __init__(self, agent: Agent, case: Case) -> None:
        self._agent = agent
        self._case_id = case.pk
        self._verified = second_factor_verified(agent)
        self._cleared = frozenset(sensitivities_for(agent))
        self._granted: bool | None = None

    def shows(self, sensitivity: str) -> bool:
        if sensitivity == Sensitivity.CLINICAL and not self._verified:
            return False
        if sensitivity in self._cleared:
            return True
        if self._granted is None:
            self._granted = active_grant(self._agent, self._case_id) is not None
        return self._granted


def content_scope(agent: Agent, case: Case) -> ContentScope:
    """For a case `access_case` let the agent open: a grant covers everything in it."""
    return ContentScope(agent, case)


def mark_content_shown(agent: Agent, case: Case, messages: Iterable[Message]) -> int:
    """Mark each message `content_shown` by the agent's scope on `case`; count the withheld.

    Templates and API schemas withhold any message not marked, so a new way to show
    messages fails closed.
    """
    scope = content_scope(agent, case)
    withheld = 0
    for message in messages:
        shown = scope.shows(message.sensitivity)
        message.content_shown = shown  # type: ignore[attr-defined]
        withheld += not shown
    return withheld


def active_grant(agent: Agent, case_id: int) -> BreakGlassGrant | None:
    return _active_grants(agent).filter(case_id=case_id).order_by("-expires_at").first()


def _active_grants(agent: Agent) -> QuerySet[BreakGlassGrant]:
    return BreakGlassGrant.objects.filter(
        agent=agent, expires_at__gt=timezone.now(), ended_at__isnull=True
    )


def _audit(agent: Agent, case: Case, purpose: str, outcome: str, reason: str) -> None:
    audit.record(agent, purpose, "case", case.pk, outcome, reason)


# A data subject's rights (privacy.subject_rights): only active administrators export or
# erase a contact in the UI or the API; the command line acts as the operator (no agent),
# who already holds the database. Every attempt is audited with the contact's id only.


class SubjectPurpose:
    EXPORT = "contact.export"
    ERASE = "contact.erase"


class SubjectRightsForbiddenError(PermissionError):
    """Only administrators may export or erase a contact."""


class SubjectNotFoundError(LookupError):
    """No contact with that id or address."""


def access_subject(agent: Agent | None, contact_id: int, purpose: str) -> Contact:
    """Return the contact if `agent` (None: the operator's command line) may act on it.

    The role is checked before the contact is looked up, so a refused agent learns
    nothing about which ids exist.
    """
    if agent is not None and not may_exercise_rights(agent):
        audit.record(agent, purpose, "contact", contact_id, AuditOutcome.DENIED, "not an admin")
        raise SubjectRightsForbiddenError("Only administrators may export or erase a contact.")
    contact = Contact.objects.select_related("organisation").filter(pk=contact_id).first()
    if contact is None:
        raise SubjectNotFoundError(f"No contact #{contact_id}.")
    return contact


def may_exercise_rights(agent: Agent) -> bool:
    """Whether to offer the export and erase actions (`access_subject` still decides)."""
    return agent.is_active and agent.role == Role.ADMIN
