"""Leads and admins manage SLA policies and business calendars: each change is audited
and followed by a recompute of the open cases it may re-target.

Which policy applies depends on every active policy before it, so a change to any
policy may move any open case to another one: all open cases are recomputed, queued in
batches after the commit. A calendar change recomputes only the open cases whose
clocks count in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from kiwidesk.accounts.models import Agent, Role, Team
from kiwidesk.cases.models import OPEN_STATUSES, Case, Channel, Priority, Sensitivity
from kiwidesk.cases.services import normalise_tags
from kiwidesk.contacts.models import Organisation, Tier
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import (
    DEFAULT_FOLLOW_UP_MESSAGE,
    DEFAULT_SOLVE_NOTICE,
    BusinessCalendar,
    Policy,
    Target,
)

RECOMPUTE_BATCH = 500
# A year: longer is a typo, and the column holds a 32-bit integer.
MAX_TARGET_MINUTES = 525_600
MANAGER_ROLES = frozenset({Role.LEAD, Role.ADMIN})
MAX_FOLLOW_UPS = 20
# As long as a case's tag name (cases.models.Tag).
MAX_TAG_LENGTH = 50
# A reminder is a short email or chat message; ten thousand characters is a paste gone wrong.
MAX_MESSAGE_LENGTH = 10_000
_POSITION_STEP = 10


class SlaManagementForbiddenError(PermissionError):
    """Only active leads and admins may change SLA policies and calendars."""


class SlaSettingsInvalidError(ValueError):
    """A policy or calendar as asked for breaks a rule; `messages` says which ones.

    `by_field` holds the messages that concern one field (named as in `PolicySpec`), so
    a form can show each next to its field, `general` the others; `messages` holds all.
    """

    def __init__(
        self, messages: Sequence[str], *, by_field: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.general = list(messages)
        self.by_field = {name: list(texts) for name, texts in (by_field or {}).items() if texts}
        self.messages = [*messages, *(text for texts in self.by_field.values() for text in texts)]
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True, slots=True)
class TargetSpec:
    metric: str
    priority: str
    minutes: int
    is_business_time: bool = True
    organisation_id: int | None = None


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A policy's conditions and its whole set of targets (they replace the old ones)."""

    name: str
    is_active: bool = True
    calendar_id: int | None = None
    tiers: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sensitivities: tuple[str, ...] = ()
    targets: tuple[TargetSpec, ...] = ()
    # What a warning and a breach do (sla.actions); ids name a team and an agent.
    warn_minutes_before: int | None = None
    warning_notifies: bool = False
    warning_raises_priority: bool = False
    warning_team_id: int | None = None
    warning_assignee_id: int | None = None
    warning_tag: str = ""
    breach_notifies: bool = False
    breach_raises_priority: bool = False
    breach_team_id: int | None = None
    breach_assignee_id: int | None = None
    breach_tag: str = ""
    # The follow-up cadence: how many reminders, and whether the case is then solved.
    follow_up_limit: int = 3
    solves_after_follow_ups: bool = False
    follow_up_message: str = DEFAULT_FOLLOW_UP_MESSAGE
    solve_notice: str = DEFAULT_SOLVE_NOTICE


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    name: str
    time_zone: str = "UTC"
    weekly_hours: dict[str, list[list[str]]] = field(default_factory=dict)
    is_always_open: bool = False
    country: str = ""
    subdivision: str = ""
    extra_closed_dates: tuple[str, ...] = ()


def may_manage(agent: Agent) -> bool:
    return agent.is_active and agent.role in MANAGER_ROLES


def ensure_may_manage(agent: Agent) -> None:
    if not may_manage(agent):
        raise SlaManagementForbiddenError("Only support leads and administrators manage SLAs.")


# Policies ----------------------------------------------------------------------------


def create_policy(agent: Agent, spec: PolicySpec) -> Policy:
    """Add a policy after the last one, with its targets."""
    ensure_may_manage(agent)
    _check_policy(spec)
    with transaction.atomic():
        last = Policy.objects.aggregate(last=Max("position"))["last"]
        policy = Policy(position=(last or 0) + _POSITION_STEP)
        _save_policy(policy, spec)
        _audit(agent, "sla.policy.create", policy)
        _recompute_open_cases_after_commit()
    return policy


def update_policy(agent: Agent, policy: Policy, spec: PolicySpec) -> Policy:
    """Replace a policy's conditions and targets."""
    ensure_may_manage(agent)
    _check_policy(spec)
    with transaction.atomic():
        _save_policy(policy, spec)
        _audit(agent, "sla.policy.update", policy)
        _recompute_open_cases_after_commit()
    return policy


def delete_policy(agent: Agent, policy: Policy) -> None:
    """Delete a policy; its clocks go with it and the open cases get the next match's."""
    ensure_may_manage(agent)
    with transaction.atomic():
        _audit(agent, "sla.policy.delete", policy)
        policy.delete()
        _recompute_open_cases_after_commit()


def move_policy(agent: Agent, policy: Policy, *, to_index: int) -> list[Policy]:
    """Put a policy at `to_index` (0: first) of the order; return the policies in order."""
    ensure_may_manage(agent)
    with transaction.atomic():
        ordered = list(Policy.objects.select_for_update().order_by("position", "id"))
        moving = next(p for p in ordered if p.pk == policy.pk)
        ordered.remove(moving)
        ordered.insert(max(0, min(to_index, len(ordered))), moving)
        for index, each in enumerate(ordered, start=1):
            each.position = index * _POSITION_STEP
        Policy.objects.bulk_update(ordered, ["position"])
        policy.position = moving.position
        _audit(agent, "sla.policy.move", moving, reason=f"to position {to_index + 1}")
        _recompute_open_cases_after_commit()
    return ordered


def policy_spec(policy: Policy) -> PolicySpec:
    """The policy as it is saved, every target included: the base a partial change edits."""
    return PolicySpec(
        name=policy.name, is_active=policy.is_active, calendar_id=policy.calendar_id,
        tiers=tuple(policy.tiers), priorities=tuple(policy.priorities),
        channels=tuple(policy.channels), categories=tuple(policy.categories),
        tags=tuple(policy.tags), sensitivities=tuple(policy.sensitivities),
        targets=tuple(
            TargetSpec(t.metric, t.priority, t.minutes, t.is_business_time, t.organisation_id)
            for t in policy.targets.all()
        ),
        warn_minutes_before=policy.warn_minutes_before,
        warning_notifies=policy.warning_notifies,
        warning_raises_priority=policy.warning_raises_priority,
        warning_team_id=policy.warning_team_id, warning_assignee_id=policy.warning_assignee_id,
        warning_tag=policy.warning_tag,
        breach_notifies=policy.breach_notifies,
        breach_raises_priority=policy.breach_raises_priority,
        breach_team_id=policy.breach_team_id, breach_assignee_id=policy.breach_assignee_id,
        breach_tag=policy.breach_tag,
        follow_up_limit=policy.follow_up_limit,
        solves_after_follow_ups=policy.solves_after_follow_ups,
        follow_up_message=policy.follow_up_message, solve_notice=policy.solve_notice,
    )  # fmt: skip


def policy_index(policy: Policy) -> int:
    """Where a policy stands in the order (0: first)."""
    ids = list(Policy.objects.order_by("position", "id").values_list("pk", flat=True))
    return ids.index(policy.pk)


def _save_policy(policy: Policy, spec: PolicySpec) -> None:
    policy.name = spec.name.strip()
    policy.is_active = spec.is_active
    policy.calendar_id = spec.calendar_id
    policy.tiers = list(spec.tiers)
    policy.priorities = list(spec.priorities)
    policy.channels = list(spec.channels)
    policy.categories = _words(spec.categories)
    policy.tags = _words(spec.tags)
    policy.sensitivities = list(spec.sensitivities)
    _set_actions(policy, spec)
    policy.save()
    policy.targets.all().delete()
    Target.objects.bulk_create(
        Target(
            policy=policy,
            metric=target.metric,
            priority=target.priority,
            minutes=target.minutes,
            is_business_time=target.is_business_time,
            organisation_id=target.organisation_id,
        )
        for target in spec.targets
    )


def _set_actions(policy: Policy, spec: PolicySpec) -> None:
    policy.warn_minutes_before = spec.warn_minutes_before
    policy.warning_notifies = spec.warning_notifies
    policy.warning_raises_priority = spec.warning_raises_priority
    policy.warning_team_id = spec.warning_team_id
    policy.warning_assignee_id = spec.warning_assignee_id
    policy.warning_tag = _tag(spec.warning_tag)
    policy.breach_notifies = spec.breach_notifies
    policy.breach_raises_priority = spec.breach_raises_priority
    policy.breach_team_id = spec.breach_team_id
    policy.breach_assignee_id = spec.breach_assignee_id
    policy.breach_tag = _tag(spec.breach_tag)
    policy.follow_up_limit = spec.follow_up_limit
    policy.solves_after_follow_ups = spec.solves_after_follow_ups
    policy.follow_up_message = spec.follow_up_message.strip()
    policy.solve_notice = spec.solve_notice.strip()


def _tag(name: str) -> str:
    """The tag as a case stores it (cases.services.normalise_tags); empty: no tag."""
    return next(iter(normalise_tags([name])), "")


def _words(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value.strip() for value in values if value.strip()))


def _check_policy(spec: PolicySpec) -> None:
    problems = [
        *(["The name is empty."] if not spec.name.strip() else []),
        *(["The name is longer than 100 characters."] if len(spec.name.strip()) > 100 else []),
        *_nul_problems([spec.name, *spec.categories, *spec.tags]),
        *_unknown("tier", spec.tiers, Tier.values),
        *_unknown("priority", spec.priorities, Priority.values),
        *_unknown("channel", spec.channels, Channel.values),
        *_unknown("sensitivity", spec.sensitivities, Sensitivity.values),
        *_calendar_problems(spec.calendar_id),
        *_target_problems(spec.targets),
    ]
    by_field = _action_problems(spec)
    if problems or any(by_field.values()):
        raise SlaSettingsInvalidError(problems, by_field=by_field)


def _action_problems(spec: PolicySpec) -> dict[str, list[str]]:
    """What is wrong with the warning, breach and follow-up settings, per field."""
    return {
        "warn_minutes_before": _warn_minutes_problems(spec.warn_minutes_before),
        "warning_team_id": _team_problems("On warning", spec.warning_team_id),
        "warning_assignee_id": _assignee_problems("On warning", spec.warning_assignee_id),
        "warning_tag": _tag_problems("On warning", spec.warning_tag),
        "breach_team_id": _team_problems("On breach", spec.breach_team_id),
        "breach_assignee_id": _assignee_problems("On breach", spec.breach_assignee_id),
        "breach_tag": _tag_problems("On breach", spec.breach_tag),
        "follow_up_limit": _follow_up_limit_problems(spec.follow_up_limit),
        "follow_up_message": _message_problems("The reminder text", spec.follow_up_message),
        "solve_notice": _message_problems("The solve notice", spec.solve_notice),
    }


def _warn_minutes_problems(minutes: int | None) -> list[str]:
    if minutes is None:
        return []
    if minutes < 1:
        return ["Warn at least 1 minute before a clock is due, or leave it empty for no warning."]
    if minutes > MAX_TARGET_MINUTES:
        return ["Warn at most a year (525600 minutes) before a clock is due."]
    return []


def _team_problems(when: str, team_id: int | None) -> list[str]:
    if team_id is None or Team.objects.filter(pk=team_id).exists():
        return []
    return [f"{when}: there is no team {team_id}."]


def _assignee_problems(when: str, agent_id: int | None) -> list[str]:
    if agent_id is None:
        return []
    assignee = Agent.objects.filter(pk=agent_id).only("name", "email", "is_active").first()
    if assignee is None:
        return [f"{when}: there is no agent {agent_id}."]
    if not assignee.is_active:
        return [f"{when}: {assignee} is deactivated and cannot take cases."]
    return []


def _tag_problems(when: str, name: str) -> list[str]:
    if "\x00" in name:
        return [f"{when}: the tag may not hold a NUL character."]
    if "," in name:
        return [f"{when}: a tag is one word or phrase, without commas."]
    if len(" ".join(name.split())) > MAX_TAG_LENGTH:
        return [f"{when}: a tag is at most {MAX_TAG_LENGTH} characters."]
    return []


def _follow_up_limit_problems(limit: int) -> list[str]:
    if 0 <= limit <= MAX_FOLLOW_UPS:
        return []
    return [f"Send from 0 to {MAX_FOLLOW_UPS} follow-up reminders."]


def _message_problems(what: str, text: str) -> list[str]:
    if "\x00" in text:
        return [f"{what} may not hold a NUL character."]
    if not text.strip():
        return [f"{what} is empty."]
    if len(text.strip()) > MAX_MESSAGE_LENGTH:
        return [f"{what} is longer than {MAX_MESSAGE_LENGTH} characters."]
    return []


def _nul_problems(texts: Iterable[str]) -> list[str]:
    # No database stores a NUL character in text; refuse it here rather than fail there.
    return ["Text may not hold a NUL character."] if any("\x00" in t for t in texts) else []


def _unknown(what: str, values: Iterable[str], allowed: Sequence[str]) -> list[str]:
    return [
        f"Unknown {what} {value!r}: choose from {', '.join(allowed)}."
        for value in values
        if value not in allowed
    ]


def _calendar_problems(calendar_id: int | None) -> list[str]:
    if calendar_id is None or BusinessCalendar.objects.filter(pk=calendar_id).exists():
        return []
    return [f"There is no calendar {calendar_id}."]


def _target_problems(targets: Sequence[TargetSpec]) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[str, str, int | None]] = set()
    organisation_ids = {t.organisation_id for t in targets if t.organisation_id is not None}
    known = set(Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", flat=True))
    for target in targets:
        problems += _one_target_problems(target, known)
        key = (target.metric, target.priority, target.organisation_id)
        if key in seen:
            problems.append(f"Two targets for {target.metric} at {target.priority} priority.")
        seen.add(key)
    return problems


def _one_target_problems(target: TargetSpec, organisations: set[int]) -> list[str]:
    problems = _unknown("metric", [target.metric], [m.value for m in Metric])
    problems += _unknown("priority", [target.priority], Priority.values)
    if target.minutes < 1:
        problems.append(f"The {target.metric} target must be at least 1 minute.")
    if target.minutes > MAX_TARGET_MINUTES:
        problems.append(f"The {target.metric} target must be at most a year (525600 minutes).")
    if target.organisation_id is None:
        return problems
    if target.metric != Metric.THIRD_PARTY_RESPONSE:
        problems.append("Only a third-party response target names an organisation.")
    if target.organisation_id not in organisations:
        problems.append(f"There is no organisation {target.organisation_id}.")
    return problems


# Calendars ---------------------------------------------------------------------------


def create_calendar(agent: Agent, spec: CalendarSpec) -> BusinessCalendar:
    """Add a business calendar (no policy counts in it yet, so no clock changes)."""
    ensure_may_manage(agent)
    calendar = BusinessCalendar()
    with transaction.atomic():
        _save_calendar(calendar, spec)
        _audit(agent, "sla.calendar.create", calendar)
    return calendar


def update_calendar(agent: Agent, calendar: BusinessCalendar, spec: CalendarSpec) -> None:
    """Change a calendar, and recompute the open cases whose clocks count in it."""
    ensure_may_manage(agent)
    with transaction.atomic():
        _save_calendar(calendar, spec)
        _audit(agent, "sla.calendar.update", calendar)
        case_ids = list(
            Case.objects.filter(status__in=OPEN_STATUSES, clocks__policy__calendar=calendar)
            .distinct()
            .values_list("pk", flat=True)
        )
        transaction.on_commit(partial(queue_recompute, case_ids), robust=True)


def _save_calendar(calendar: BusinessCalendar, spec: CalendarSpec) -> None:
    calendar.name = spec.name.strip()
    calendar.time_zone = spec.time_zone.strip()
    calendar.weekly_hours = spec.weekly_hours
    calendar.is_always_open = spec.is_always_open
    calendar.country = spec.country.strip().upper()
    calendar.subdivision = spec.subdivision.strip().upper()
    calendar.extra_closed_dates = sorted(set(spec.extra_closed_dates))
    texts = [calendar.name, calendar.time_zone, calendar.country, calendar.subdivision]
    if _nul_problems(texts):
        raise SlaSettingsInvalidError(_nul_problems(texts))
    if not calendar.is_always_open and not any(calendar.weekly_hours.values()):
        raise SlaSettingsInvalidError(
            ["Give opening hours for at least one weekday, or make the calendar 24/7."]
        )
    try:
        # Empty hours are allowed for a 24/7 calendar; the check above covers the others.
        calendar.full_clean(exclude=["weekly_hours"])
    except ValidationError as error:
        raise SlaSettingsInvalidError(_validation_messages(error)) from error
    calendar.save()


def _validation_messages(error: ValidationError) -> list[str]:
    if not hasattr(error, "error_dict"):
        return [f"Not a valid calendar: {message}" for message in error.messages]
    return [
        f"{name.replace('_', ' ').capitalize()}: {message}"
        if name != "__all__"
        else f"Not a valid calendar: {message}"
        for name, errors in error.message_dict.items()
        for message in errors
    ]


# Shared ------------------------------------------------------------------------------


def _audit(agent: Agent, action: str, target: Policy | BusinessCalendar, reason: str = "") -> None:
    audit.record(
        agent,
        action,
        "sla_policy" if isinstance(target, Policy) else "sla_calendar",
        target.pk,
        AuditOutcome.GRANTED,
        (reason or target.name)[:200],
    )


def _recompute_open_cases_after_commit() -> None:
    transaction.on_commit(_recompute_open_cases, robust=True)


def _recompute_open_cases() -> None:
    case_ids = Case.objects.filter(status__in=OPEN_STATUSES).order_by("pk")
    queue_recompute(list(case_ids.values_list("pk", flat=True)))


def queue_recompute(case_ids: Sequence[int]) -> int:
    """Queue `sla.tasks.recompute_cases` in batches; return how many tasks were queued."""
    # Imported here: the tasks module imports the services, which need the app registry.
    from kiwidesk.sla.tasks import recompute_cases

    batches = [
        list(case_ids[start : start + RECOMPUTE_BATCH])
        for start in range(0, len(case_ids), RECOMPUTE_BATCH)
    ]
    for batch in batches:
        recompute_cases.enqueue(batch)
    return len(batches)
