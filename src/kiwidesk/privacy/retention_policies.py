"""Administrators manage retention policies here; each change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Role
from kiwidesk.cases.models import Sensitivity
from kiwidesk.contacts.models import Organisation
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome, RetentionAction, RetentionPolicy

MAX_DAYS = 36_500


class RetentionForbiddenError(PermissionError):
    """Only administrators manage retention policies."""


class RetentionPolicyInvalidError(ValueError):
    """The policy as given cannot be saved; the message says why."""


@dataclass(frozen=True)
class PolicySpec:
    sensitivity: str
    action: str
    after_days: int
    organisation_id: int | None = None
    is_active: bool = True


def ensure_may_manage(agent: Agent, action: str = "retention.policy.view") -> None:
    """Let active administrators through; audit a refusal."""
    if agent.is_active and agent.role == Role.ADMIN:
        return
    audit.record(agent, action, "retention_policy", "", AuditOutcome.DENIED, "not an admin")
    raise RetentionForbiddenError("Only administrators manage retention policies.")


def create_policy(agent: Agent, spec: PolicySpec) -> RetentionPolicy:
    ensure_may_manage(agent, "retention.policy.create")
    _check(spec)
    with transaction.atomic():
        policy = RetentionPolicy(**_fields(spec))
        _save(policy)
        _audit(agent, "retention.policy.create", policy)
    return policy


def update_policy(agent: Agent, policy: RetentionPolicy, spec: PolicySpec) -> RetentionPolicy:
    ensure_may_manage(agent, "retention.policy.update")
    _check(spec)
    with transaction.atomic():
        for name, value in _fields(spec).items():
            setattr(policy, name, value)
        policy.updated_at = timezone.now()
        _save(policy)
        _audit(agent, "retention.policy.update", policy)
    return policy


def delete_policy(agent: Agent, policy: RetentionPolicy) -> None:
    ensure_may_manage(agent, "retention.policy.delete")
    with transaction.atomic():
        _audit(agent, "retention.policy.delete", policy)
        policy.delete()


def _check(spec: PolicySpec) -> None:
    if spec.sensitivity not in Sensitivity.values:
        raise RetentionPolicyInvalidError(
            f"sensitivity must be one of {', '.join(Sensitivity.values)}."
        )
    if spec.action not in RetentionAction.values:
        raise RetentionPolicyInvalidError(
            f"action must be one of {', '.join(RetentionAction.values)}."
        )
    if not 1 <= spec.after_days <= MAX_DAYS:
        raise RetentionPolicyInvalidError(f"after_days must be between 1 and {MAX_DAYS}.")
    if (
        spec.organisation_id is not None
        and not Organisation.objects.filter(pk=spec.organisation_id).exists()
    ):
        raise RetentionPolicyInvalidError(f"No organisation #{spec.organisation_id}.")


def _fields(spec: PolicySpec) -> dict[str, object]:
    return {
        "sensitivity": spec.sensitivity,
        "action": spec.action,
        "after_days": spec.after_days,
        "organisation_id": spec.organisation_id,
        "is_active": spec.is_active,
    }


def _save(policy: RetentionPolicy) -> None:
    try:
        # A savepoint, so the unique constraint's refusal leaves the transaction usable.
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise RetentionPolicyInvalidError(
            "A policy for this sensitivity and organisation already exists: edit that one."
        ) from None


def _audit(agent: Agent, action: str, policy: RetentionPolicy) -> None:
    reason = (
        f"{policy.sensitivity} org={policy.organisation_id or 'any'} {policy.action} "
        f"after {policy.after_days} days{'' if policy.is_active else ' (inactive)'}"
    )
    audit.record(agent, action, "retention_policy", policy.pk, AuditOutcome.GRANTED, reason)
