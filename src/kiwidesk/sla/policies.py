"""Which policy applies to a case, and what it asks of it (targets at the case's priority)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kiwidesk.sla import calendar
from kiwidesk.sla.metrics import Metric, Target, Targets
from kiwidesk.sla.models import Policy


class CaseTraits(NamedTuple):
    """What policy conditions look at, as the case is now.

    A NamedTuple: a rebuild makes one per case, and a frozen dataclass costs several
    times as much to create."""

    tier: str
    priority: str
    channel: str
    category: str
    tags: frozenset[str]
    sensitivity: str


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy with its targets and calendar loaded once, for matching many cases."""

    policy_id: int
    tiers: frozenset[str]
    priorities: frozenset[str]
    channels: frozenset[str]
    categories: frozenset[str]
    tags: frozenset[str]
    sensitivities: frozenset[str]
    calendar: calendar.Calendar
    # priority -> metric -> target; and priority -> organisation (None: any) -> target.
    targets: dict[str, dict[Metric, Target]]
    third_party: dict[str, dict[int | None, Target]]
    # Reminders per pending stretch, and whether the case is then solved with a notice.
    follow_up_limit: int
    solves_after_follow_ups: bool

    def matches(self, case: CaseTraits) -> bool:
        return (
            _allows(self.tiers, case.tier)
            and _allows(self.priorities, case.priority)
            and _allows(self.channels, case.channel)
            and _allows(self.categories, case.category)
            and _allows(self.sensitivities, case.sensitivity)
            and (not self.tags or bool(self.tags & case.tags))
        )

    def targets_for(self, priority: str, thread_organisations: dict[int, int | None]) -> Targets:
        return Targets(
            by_metric=self.targets.get(priority, {}),
            calendar=self.calendar,
            third_party=self.third_party.get(priority, {}),
            thread_organisations=thread_organisations,
            # The solve notice is one more automated message, and its wait one more cycle.
            follow_up_limit=self.follow_up_limit + self.solves_after_follow_ups,
        )


def _allows(allowed: Collection[str], value: str) -> bool:
    return not allowed or value in allowed


def active_policies() -> list[CompiledPolicy]:
    """Every active policy in order, with its targets and calendar (three queries)."""
    policies = list(
        Policy.objects.filter(is_active=True)
        .select_related("calendar")
        .prefetch_related("targets")
        .order_by("position", "id")
    )
    return [_compiled(policy) for policy in policies]


def _compiled(policy: Policy) -> CompiledPolicy:
    targets: dict[str, dict[Metric, Target]] = {}
    third_party: dict[str, dict[int | None, Target]] = {}
    for row in policy.targets.all():
        target = Target(seconds=row.minutes * 60, is_business_time=row.is_business_time)
        if row.metric == Metric.THIRD_PARTY_RESPONSE:
            third_party.setdefault(row.priority, {})[row.organisation_id] = target
        else:
            targets.setdefault(row.priority, {})[Metric(row.metric)] = target
    return CompiledPolicy(
        policy_id=policy.pk,
        tiers=frozenset(policy.tiers),
        priorities=frozenset(policy.priorities),
        channels=frozenset(policy.channels),
        categories=frozenset(policy.categories),
        tags=frozenset(policy.tags),
        sensitivities=frozenset(policy.sensitivities),
        calendar=(policy.calendar.to_calendar() if policy.calendar else calendar.Calendar.always()),
        targets=targets,
        third_party=third_party,
        follow_up_limit=policy.follow_up_limit,
        solves_after_follow_ups=policy.solves_after_follow_ups,
    )


def applicable_policy(
    policies: Sequence[CompiledPolicy] | Iterable[CompiledPolicy], case: CaseTraits
) -> CompiledPolicy | None:
    """The first policy (by position) whose conditions all match the case."""
    return next((policy for policy in policies if policy.matches(case)), None)
