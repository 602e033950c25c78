"""Decide each case's shape (when, who, what, how it ends, how many messages) and tell it.

Planning is cheap and done for every case up front, so message counts can be shared
out exactly; telling a case (its script) happens batch by batch while writing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kiwidesk.cases.models import Channel, Priority, Sensitivity, Status
from kiwidesk.contacts.models import Tier
from kiwidesk.seed import texts
from kiwidesk.seed.errors import SeedError
from kiwidesk.seed.people import (
    CLINICIAN_SUPPORT,
    CONCIERGE,
    Cast,
    SeedAgent,
    SeedContact,
)

DAY = 86_400
HOUR = 3_600
STATUSES = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING_CUSTOMER,
    Status.PENDING_THIRD_PARTY,
    Status.ON_HOLD,
    Status.SOLVED,
    Status.CLOSED,
)
# Younger cases are still in flight; old ones are mostly closed.
STATUS_WEIGHTS_BY_AGE = (
    (2, (25, 30, 15, 8, 4, 15, 3)),
    (7, (5, 25, 15, 7, 6, 30, 12)),
    (20, (1, 10, 8, 3, 6, 12, 60)),
    (10_000, (0, 3, 2, 1, 3, 1, 90)),
)
MIN_MESSAGES: dict[str, int] = {
    Status.NEW: 1,
    Status.OPEN: 2,
    Status.PENDING_CUSTOMER: 2,
    Status.PENDING_THIRD_PARTY: 3,
    Status.ON_HOLD: 3,
    Status.SOLVED: 2,
    Status.CLOSED: 2,
}
KIND_WEIGHT = {texts.CLINICIAN: 1.0, texts.CONCIERGE: 1.3, texts.ESCALATION: 1.6}
TEAM_OF = {
    texts.CLINICIAN: CLINICIAN_SUPPORT,
    texts.ESCALATION: CLINICIAN_SUPPORT,
    texts.CONCIERGE: CONCIERGE,
}


@dataclass
class CasePlan:
    opened_at: int
    target: str
    topic: texts.Topic
    customer: SeedContact
    channel: str
    priority: str
    sensitivity: str
    assignee: SeedAgent | None
    replier: SeedAgent
    values: dict[str, Any]
    messages: int = 0
    vendors: list[tuple[SeedContact, str]] = field(default_factory=list)


def plan_cases(
    rng: random.Random, cast: Cast, *, cases: int, messages: int, now: int, days: int = 90
) -> list[CasePlan]:
    """Plan every case, oldest first, with exactly `messages` messages between them."""
    # Skewed towards today: a desk with a live backlog, not a quiet archive.
    opened = sorted(now - int(rng.random() ** 1.5 * days * DAY) for _ in range(cases))
    targets = [_target(rng, (now - at) / DAY) for at in opened]
    _cover_every_status(targets)
    worked = [i for i, target in enumerate(targets) if target != Status.NEW]
    by_lead = set(rng.sample(worked, min(len(worked), max(3, cases // 30))))
    plans = [
        _plan(rng, cast, at, target, by_lead=index in by_lead)
        for index, (at, target) in enumerate(zip(opened, targets, strict=True))
    ]
    _share_messages(rng, plans, messages)
    return plans


def _target(rng: random.Random, age_days: float) -> str:
    for limit, weights in STATUS_WEIGHTS_BY_AGE:
        if age_days < limit:
            return rng.choices(STATUSES, weights)[0]
    return Status.CLOSED


def _cover_every_status(targets: list[str]) -> None:
    """A small seed still shows every status: the newest cases take the missing ones."""
    missing = [s for s in STATUSES if s not in targets]
    if len(targets) < len(STATUSES):
        return
    counts: dict[str, int] = {s: targets.count(s) for s in STATUSES}
    index = len(targets) - 1
    for status in missing:
        while counts[targets[index]] < 2:
            index -= 1
        counts[targets[index]] -= 1
        targets[index] = status
        index -= 1


def _plan(rng: random.Random, cast: Cast, at: int, target: str, *, by_lead: bool) -> CasePlan:
    kind = _kind(rng, target)
    topic = rng.choice(
        {
            texts.CLINICIAN: texts.CLINICIAN_TOPICS,
            texts.CONCIERGE: texts.CONCIERGE_TOPICS,
            texts.ESCALATION: texts.ESCALATION_TOPICS,
        }[kind]
    )
    customer = rng.choice(cast.vips if kind == texts.CONCIERGE else cast.clinicians)
    sensitivity = _sensitivity(rng, topic)
    team_agents = [a for a in cast.team_agents(TEAM_OF[kind]) if a.may_open(sensitivity)]
    # The demo login is the lead: give them a few cases of their own to work.
    replier = cast.lead if by_lead else rng.choice(team_agents or [cast.lead])
    unassigned = target == Status.NEW or (not by_lead and rng.random() < 0.08)
    assignee = None if unassigned else replier
    vendors = _vendors(rng, cast, topic)
    values = _values(rng, customer, replier, vendors)
    return CasePlan(
        opened_at=at,
        target=target,
        topic=topic,
        customer=customer,
        channel=_channel(rng, kind, customer),
        priority=_priority(rng, topic, customer),
        sensitivity=sensitivity,
        assignee=assignee,
        replier=replier,
        values=values,
        vendors=vendors,
    )


def _kind(rng: random.Random, target: str) -> str:
    if target == Status.PENDING_THIRD_PARTY:
        return texts.CONCIERGE
    return rng.choices((texts.CLINICIAN, texts.CONCIERGE, texts.ESCALATION), (50, 38, 12))[0]


def _sensitivity(rng: random.Random, topic: texts.Topic) -> str:
    roll = rng.random()
    if roll < topic.clinical_share:
        return Sensitivity.CLINICAL
    if roll < topic.clinical_share + topic.confidential_share:
        return Sensitivity.CONFIDENTIAL
    return Sensitivity.NORMAL


def _channel(rng: random.Random, kind: str, customer: SeedContact) -> str:
    if kind == texts.CONCIERGE:
        options = ((Channel.WHATSAPP, 60), (Channel.EMAIL, 25), (Channel.PHONE, 15))
    else:
        options = ((Channel.EMAIL, 70), (Channel.CHAT, 15), (Channel.PHONE, 15))
    reachable = {Channel.CHAT, Channel.EMAIL} | set(customer.kinds)
    allowed = [(c, w) for c, w in options if c in reachable]
    return rng.choices([c for c, _ in allowed], [w for _, w in allowed])[0]


def _priority(rng: random.Random, topic: texts.Topic, customer: SeedContact) -> str:
    if rng.random() < 0.6:
        priority = topic.priority
    else:
        priority = rng.choices(
            (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT), (15, 60, 20, 5)
        )[0]
    if customer.tier == Tier.VIP and priority in (Priority.LOW, Priority.NORMAL):
        return Priority.HIGH if rng.random() < 0.3 else priority
    return priority


def _vendors(rng: random.Random, cast: Cast, topic: texts.Topic) -> list[tuple[SeedContact, str]]:
    if not topic.vendor_category:
        return []
    pool = cast.vendors[topic.vendor_category]
    return rng.sample(pool, min(len(pool), 2))


def _values(
    rng: random.Random,
    customer: SeedContact,
    replier: SeedAgent,
    vendors: list[tuple[SeedContact, str]],
) -> dict[str, Any]:
    return {
        "first": customer.first_name,
        "agent": replier.first_name,
        "city": rng.choice(texts.CITIES),
        "day": rng.choice(texts.DAYS),
        "time": rng.choice(texts.TIMES),
        "month": rng.choice(texts.MONTHS),
        "party": rng.randint(2, 9),
        "vendor": vendors[0][1] if vendors else "the restaurant",
    }


def _share_messages(rng: random.Random, plans: list[CasePlan], total: int) -> None:
    """Give each case its minimum, then share the rest by weight, to hit `total` exactly."""
    needed = sum(MIN_MESSAGES[p.target] for p in plans)
    if total < needed:
        raise SeedError(f"{total} messages are too few for {len(plans)} cases: need {needed}")
    weights = [_weight(rng, p) for p in plans]
    spare = total - needed
    scale = spare / (sum(weights) or 1)
    for plan, weight in zip(plans, weights, strict=True):
        plan.messages = MIN_MESSAGES[plan.target] + int(weight * scale)
    leftover = total - sum(p.messages for p in plans)
    busy = [p for p in plans if p.target != Status.NEW] or plans
    for index in range(leftover):
        busy[index % len(busy)].messages += 1


def _weight(rng: random.Random, plan: CasePlan) -> float:
    if plan.target == Status.NEW:
        return 0.05 * rng.random()
    return KIND_WEIGHT[plan.topic.kind] * (0.2 + rng.expovariate(1.0))
