"""What a policy does when one of its clocks warns or breaches.

Case changes go through `cases.services.update_case`, so each writes its own Event;
the email to the assignee and the team's leads is sent after the firing's commit
(`notify`), so a mail server that is down never undoes the firing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.mail import send_mail

from kiwidesk.accounts.models import Agent, Role, Team
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import PRIORITY_RANK, Case, Priority
from kiwidesk.sla.models import Policy

logger = logging.getLogger(__name__)

_BY_RANK = {rank: priority for priority, rank in PRIORITY_RANK.items()}


class Firing(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True, slots=True)
class Escalation:
    """The actions a policy takes on one kind of firing."""

    notifies: bool
    raises_priority: bool
    team: Team | None
    assignee: Agent | None
    tag: str


@dataclass(frozen=True, slots=True)
class Notice:
    """An email to send once the firing has committed."""

    recipients: list[str]
    subject: str
    body: str


def escalation(policy: Policy, firing: Firing) -> Escalation:
    if firing == Firing.WARNING:
        return Escalation(
            notifies=policy.warning_notifies,
            raises_priority=policy.warning_raises_priority,
            team=policy.warning_team,
            assignee=policy.warning_assignee,
            tag=policy.warning_tag,
        )
    return Escalation(
        notifies=policy.breach_notifies,
        raises_priority=policy.breach_raises_priority,
        team=policy.breach_team,
        assignee=policy.breach_assignee,
        tag=policy.breach_tag,
    )


def perform(case: Case, escalation: Escalation) -> list[str]:
    """Change the case as the escalation says; return the words for what was done."""
    changes: cases.CaseChanges = {}
    done: list[str] = []
    if escalation.raises_priority and (higher := _one_step_up(case.priority)):
        changes["priority"] = higher
        done.append(f"priority raised to {Priority(higher).label.lower()}")
    if escalation.team is not None and escalation.team.pk != case.team_id:
        changes["team"] = escalation.team
        done.append(f"moved to {escalation.team.name}")
    if escalation.assignee is not None and escalation.assignee.pk != case.assignee_id:
        changes["assignee"] = escalation.assignee
        done.append(f"assigned to {escalation.assignee}")
    tags = list(case.tags.values_list("name", flat=True))
    if escalation.tag and escalation.tag not in tags:
        changes["tags"] = [*tags, escalation.tag]
        done.append(f"tagged {escalation.tag}")
    if changes:
        cases.update_case(None, case, changes)
    return done


def _one_step_up(priority: str) -> str | None:
    return _BY_RANK.get(PRIORITY_RANK[Priority(priority)] + 1)


def recipients(case: Case) -> list[str]:
    """The case's assignee and the active leads of its team, each address once."""
    addresses: list[str] = []
    if case.assignee is not None and case.assignee.is_active:
        addresses.append(case.assignee.email)
    if case.team_id is not None:
        leads = Agent.objects.filter(teams=case.team_id, role=Role.LEAD, is_active=True)
        addresses.extend(leads.order_by("email").values_list("email", flat=True))
    return list(dict.fromkeys(addresses))


def notice(case: Case, summary: str) -> Notice | None:
    addresses = recipients(case)
    if not addresses:
        return None
    # Subject and number only: the case's content may be more sensitive than an inbox.
    body = f"Case #{case.pk}: {summary}.\n\n{settings.KIWIDESK_PUBLIC_URL}/cases/{case.pk}/\n"
    return Notice(addresses, f"[Kiwidesk] Case #{case.pk}: {summary}", body)


def notify(message: Notice) -> None:
    """Send the notice; a failure is logged, the firing stays recorded."""
    try:
        send_mail(message.subject, message.body, None, message.recipients)
    except Exception:
        logger.exception("SLA notice to %s failed", message.recipients)
