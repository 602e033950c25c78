"""Retention: anonymise or delete closed cases once their policy's days have passed.

A case's policy is the active one for its sensitivity and its customer's
organisation; without one, the active policy for its sensitivity and any
organisation; without that, none (the case is kept). Anonymising replaces the case's
content as an erasure does and keeps its rows; deleting removes the case, its
threads, messages, events and files. A customer left with no other case is erased
(anonymise) or deleted (delete) with it. Each case is one transaction, so a run that
stops half-way leaves every case either done or untouched, and the next run goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kiwidesk.cases.models import Case, Status, Thread
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy import audit
from kiwidesk.privacy.erasure import cases_scope, erase_contact, erase_scope
from kiwidesk.privacy.models import (
    AnonymisedCase,
    AuditOutcome,
    RetentionAction,
    RetentionPolicy,
)

RUN_ACTION = "retention.run"
CASE_ACTIONS = {
    RetentionAction.ANONYMISE: "case.anonymise",
    RetentionAction.DELETE: "case.delete",
}


@dataclass(frozen=True)
class PolicyOutcome:
    policy: str
    action: str
    cases: int


@dataclass
class RetentionRun:
    """What one run did (or, dry, would do)."""

    is_dry_run: bool
    anonymised: int = 0
    deleted: int = 0
    contacts: int = 0
    policies: list[PolicyOutcome] = field(default_factory=list)

    def describe(self) -> str:
        return f"anonymised={self.anonymised} deleted={self.deleted} contacts={self.contacts}"


def due_cases(policy: RetentionPolicy, *, now: datetime) -> QuerySet[Case]:
    """The closed cases `policy` governs whose time is up and that it has not handled yet."""
    cutoff = now - timedelta(days=policy.after_days)
    cases = Case.objects.filter(
        status=Status.CLOSED, closed_at__lt=cutoff, sensitivity=policy.sensitivity
    )
    if policy.organisation_id is not None:
        cases = cases.filter(customer__organisation_id=policy.organisation_id)
    else:
        # An organisation with its own active policy for this level follows that one.
        specific = RetentionPolicy.objects.filter(
            is_active=True, sensitivity=policy.sensitivity, organisation__isnull=False
        ).values("organisation_id")
        cases = cases.exclude(customer__organisation_id__in=specific)
    if policy.action == RetentionAction.ANONYMISE:
        cases = cases.filter(anonymisation__isnull=True)
    return cases.order_by("closed_at", "pk")


def policy_for(case: Case) -> RetentionPolicy | None:
    """The policy that governs `case`: organisation and sensitivity over sensitivity alone."""
    policies = RetentionPolicy.objects.filter(is_active=True, sensitivity=case.sensitivity)
    organisation_id = case.customer.organisation_id
    if organisation_id is not None:
        specific = policies.filter(organisation_id=organisation_id).first()
        if specific is not None:
            return specific
    return policies.filter(organisation__isnull=True).first()


def run_retention(*, now: datetime | None = None, is_dry_run: bool = False) -> RetentionRun:
    """Apply every active policy to the cases it has due; audit the run and each case."""
    now = now or timezone.now()
    run = RetentionRun(is_dry_run=is_dry_run)
    for policy in _active_policies():
        case_ids = list(due_cases(policy, now=now).values_list("pk", flat=True))
        run.policies.append(PolicyOutcome(str(policy), policy.action, len(case_ids)))
        if is_dry_run:
            _count(run, policy.action, len(case_ids))
            continue
        for case_id in case_ids:
            run.contacts += apply_policy(policy, case_id)
            _count(run, policy.action, 1)
    if not is_dry_run:
        audit.record(None, RUN_ACTION, "retention", "", AuditOutcome.GRANTED, run.describe())
    return run


def _active_policies() -> Iterator[RetentionPolicy]:
    # Specific policies first: none of their cases reaches a general one anyway.
    policies = RetentionPolicy.objects.filter(is_active=True).select_related("organisation")
    yield from policies.filter(organisation__isnull=False).order_by("pk")
    yield from policies.filter(organisation__isnull=True).order_by("pk")


def _count(run: RetentionRun, action: str, cases: int) -> None:
    if action == RetentionAction.DELETE:
        run.deleted += cases
    else:
        run.anonymised += cases


def apply_policy(policy: RetentionPolicy, case_id: int) -> int:
    """Anonymise or delete one case (and cases merged into it); return contacts removed."""
    with transaction.atomic():
        case_ids = _with_merged(case_id)
        customers = set(Case.objects.filter(pk__in=case_ids).values_list("customer_id", flat=True))
        erase_scope(cases_scope(case_ids))
        if policy.action == RetentionAction.DELETE:
            _delete_cases(case_ids)
        else:
            AnonymisedCase.objects.bulk_create(
                [AnonymisedCase(case_id=pk, policy=policy) for pk in case_ids],
                ignore_conflicts=True,
            )
        for pk in sorted(case_ids):
            audit.record(
                None,
                CASE_ACTIONS[RetentionAction(policy.action)],
                "case",
                pk,
                AuditOutcome.GRANTED,
                f"retention policy #{policy.pk}",
            )
        return sum(_retire_contact(pk, policy.action, keep=case_ids) for pk in customers)


def _with_merged(case_id: int) -> set[int]:
    """The case and every case merged into it (their history is part of it)."""
    found = {case_id}
    frontier = {case_id}
    while frontier:
        frontier = (
            set(Case.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
            - found
        )
        found |= frontier
    return found


def _delete_cases(case_ids: set[int]) -> None:
    # merged_into is PROTECT: delete a case only once nothing left points at it.
    remaining = set(case_ids)
    while remaining:
        targets = set(
            Case.objects.filter(pk__in=remaining, merged_into__isnull=False).values_list(
                "merged_into_id", flat=True
            )
        )
        leaves = remaining - targets or remaining
        Case.objects.filter(pk__in=leaves).delete()
        remaining -= leaves


def _retire_contact(contact_id: int, action: str, *, keep: set[int]) -> int:
    """Erase (or delete) a customer with no other case holding content; return 1 if so."""
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return 0
    # Cases retention already anonymised hold nothing of theirs any more.
    live_cases = Case.objects.exclude(pk__in=keep).filter(anonymisation__isnull=True)
    other_cases = live_cases.filter(customer=contact).exists()
    other_threads = Thread.objects.filter(contact=contact, case__in=live_cases).exists()
    if other_cases or other_threads:
        return 0
    erase_contact(contact)
    # Anonymised cases still point at their customer (PROTECT): the erased row stays.
    is_referenced = (
        Case.objects.filter(customer=contact).exists()
        or Thread.objects.filter(contact=contact).exists()
    )
    if action == RetentionAction.DELETE and not is_referenced:
        contact.delete()
    return 1
