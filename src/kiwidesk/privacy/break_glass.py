"""Break-glass: open one case above your clearance, for a stated reason, for a while.

The grant is an Event on the case's timeline (everyone who opens the case sees who
broke the glass and why), a record in the audit log, and a notice to the leads of the
case's team (all active leads when it has none). Clinical content still needs the
second factor: the grant stands in for the clearance only.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Role
from kiwidesk.cases import events
from kiwidesk.cases.models import Case
from kiwidesk.privacy import audit
from kiwidesk.privacy.access import (
    BREAK_GLASS_ROLES,
    RANK,
    ActionNotAllowedError,
    CaseNotFoundError,
    active_grant,
    sensitivities_for,
)
from kiwidesk.privacy.models import AuditOutcome, BreakGlassGrant

logger = logging.getLogger(__name__)

ACTION = "case.break_glass"
MIN_REASON = 10
MAX_REASON = 500
DURATIONS = (15, 30, 60, 120)  # minutes an agent may ask for


class BreakGlassRefusedError(ValueError):
    """The request was not acceptable (no real reason, a duration not offered)."""


class AlreadyClearedError(BreakGlassRefusedError):
    """The agent's clearance already covers everything in the case."""


def open_grant(agent: Agent, case_id: int, *, reason: str, minutes: int = 60) -> BreakGlassGrant:
    """Grant `agent` access to case `case_id` for `minutes`, tell the leads, audit it."""
    reason = " ".join(reason.split())
    if agent.role not in BREAK_GLASS_ROLES:
        raise ActionNotAllowedError(agent.role, ACTION)
    if len(reason) < MIN_REASON:
        raise BreakGlassRefusedError(
            f"State why you need this case (at least {MIN_REASON} characters)."
        )
    if len(reason) > MAX_REASON:
        raise BreakGlassRefusedError(f"Keep the reason under {MAX_REASON} characters.")
    if minutes not in DURATIONS:
        offered = ", ".join(str(choice) for choice in DURATIONS)
        raise BreakGlassRefusedError(f"Choose a duration of {offered} minutes.")
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or not agent.is_active:
            raise CaseNotFoundError(case_id)
        if not needs_break_glass(agent, case):
            raise AlreadyClearedError("Your clearance already covers this case.")
        existing = active_grant(agent, case.pk)
        if existing is not None:
            return existing
        now = timezone.now()
        grant = BreakGlassGrant.objects.create(
            agent=agent,
            case=case,
            reason=reason,
            granted_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        events.break_glass(case, agent, reason=reason, expires_at=grant.expires_at, at=now)
        audit.record(agent, ACTION, "case", case.pk, AuditOutcome.GRANTED, reason)
        transaction.on_commit(partial(_notify_leads, grant.pk), robust=True)
    return grant


def end_grant(agent: Agent, case_id: int) -> bool:
    """Close the agent's grant on the case before it runs out; False when there was none."""
    with transaction.atomic():
        grant = active_grant(agent, case_id)
        if grant is None:
            return False
        BreakGlassGrant.objects.filter(pk=grant.pk).update(ended_at=timezone.now())
        audit.record(agent, "case.break_glass_end", "case", case_id, AuditOutcome.GRANTED)
    return True


def needs_break_glass(agent: Agent, case: Case) -> bool:
    """Whether the case, or a message in it, is above the agent's clearance."""
    cleared = sensitivities_for(agent)
    if case.sensitivity not in cleared:
        return True
    above = [level for level in RANK if level not in cleared]
    return case.messages.filter(sensitivity__in=above).exists()


def highest_sensitivity(case: Case) -> str:
    """The most sensitive level of the case or of any message in it."""
    levels = {case.sensitivity, *case.messages.values_list("sensitivity", flat=True).distinct()}
    return max(levels, key=lambda level: RANK.get(level, 0))


def lead_addresses(case: Case) -> list[str]:
    leads = Agent.objects.filter(role=Role.LEAD, is_active=True)
    if case.team_id is not None and leads.filter(teams=case.team_id).exists():
        leads = leads.filter(teams=case.team_id)
    return list(leads.order_by("email").values_list("email", flat=True).distinct())


def _notify_leads(grant_id: int) -> None:
    grant = BreakGlassGrant.objects.select_related("agent", "case").get(pk=grant_id)
    addresses = lead_addresses(grant.case)
    if not addresses:
        return
    # The number and the reason only: the case's content is what the glass protects.
    subject = f"[Kiwidesk] Break-glass on case #{grant.case_id} by {grant.agent}"
    body = (
        f"{grant.agent} ({grant.agent.email}) opened case #{grant.case_id} above their "
        f"clearance until {timezone.localtime(grant.expires_at):%Y-%m-%d %H:%M %Z}.\n\n"
        f"Reason: {grant.reason}\n\n"
        f"{settings.KIWIDESK_PUBLIC_URL}/cases/{grant.case_id}/\n"
    )
    try:
        send_mail(subject, body, None, addresses)
    except Exception:
        logger.exception("Break-glass notice for case %s failed", grant.case_id)
