"""Tell one planned case: the steps of its story, with gaps, replayed through `Story`."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from kiwidesk.cases.models import Channel, Priority, Status
from kiwidesk.contacts.models import IdentityKind, Tier
from kiwidesk.seed import texts
from kiwidesk.seed.people import ENGINEERING, Cast, SeedContact
from kiwidesk.seed.plan import HOUR, TEAM_OF, CasePlan
from kiwidesk.seed.story import Rows, Story

Step = tuple[int, Callable[[int], None]]  # (gap in seconds before it, what happens)
Pool = Mapping[str, tuple[str, ...]] | tuple[str, ...]


def tell(
    rng: random.Random,
    rows: Rows,
    story: Story,
    plan: CasePlan,
    *,
    cast: Cast,
    tag_ids: dict[str, int],
    now: int,
) -> None:
    """Run the plan's script through `story`, squeezing its gaps to end before `now`."""
    steps = Script(rng, story, plan, cast).steps()
    total = sum(gap for gap, _ in steps)
    room = max(0, now - 60 - plan.opened_at)
    # A story too long for its age ends at a random point of the room left, so young
    # cases do not all show their last activity at the same minute.
    squeeze = 1.0 if total <= room else room * rng.uniform(0.3, 1.0) / total
    at = plan.opened_at
    for gap, step in steps:
        at += int(gap * squeeze)
        step(at)
    rows.cases.append(story.case_row())
    tags = plan.topic.tags + (("vip",) if plan.customer.tier == Tier.VIP else ())
    rows.case_tags.extend((story.case_id, tag_ids[name]) for name in tags)


class Script:
    """The steps of one case: opening, triage, conversation, and the ending its status needs."""

    def __init__(self, rng: random.Random, story: Story, plan: CasePlan, cast: Cast) -> None:
        self.rng = rng
        self.cast = cast
        self.story = story
        self.plan = plan
        self.kind = plan.topic.kind if plan.topic.kind != texts.ESCALATION else texts.CLINICIAN
        self.out: list[Step] = []
        self.customer_thread: list[Any] = []
        self.vendor_threads: list[list[Any]] = []
        self.replier = plan.replier

    def steps(self) -> list[Step]:
        plan = self.plan
        budget = plan.messages - 1
        self._open()
        if plan.target == Status.NEW:
            for _ in range(budget):
                self._customer(texts.CUSTOMER_NUDGES, gap=self._hours(3, 20))
            return self.out
        self._triage()
        ending = 0 if plan.target == Status.OPEN else 1
        middle = budget - ending
        if middle > 0:
            self._agent_reply(texts.AGENT_FIRST_REPLIES[self.kind], gap=self._minutes(5, 240))
            middle -= 1
        self._conversation(middle)
        self._ending()
        return self.out

    def _add(self, gap: int, step: Callable[[int], None]) -> None:
        self.out.append((gap, step))

    def _hours(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * HOUR)

    def _minutes(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * 60)

    def _text(self, pool: tuple[str, ...]) -> str:
        return self.rng.choice(pool).format_map(self.plan.values)

    def _open(self) -> None:
        plan = self.plan
        logged_by = plan.replier.who if plan.channel == Channel.PHONE else None
        assignee = plan.assignee.who if plan.assignee and logged_by else None
        fields = {
            "priority": plan.priority,
            "category": plan.topic.category if self.kind == texts.CONCIERGE else "",
            "sensitivity": plan.sensitivity,
            "team": self.story_team(TEAM_OF[plan.topic.kind]),
            "assignee": assignee,
            "due_at": None,
        }
        subject = self._text(plan.topic.subjects)
        text = self._text(plan.topic.openings)

        def step(at: int) -> None:
            self.customer_thread = self.story.open(
                logged_by, at=at, subject=subject, text=text, channel=plan.channel, fields=fields
            )

        self._add(0, step)

    def story_team(self, slug: str) -> Any:
        return self.cast.teams[slug]

    def _triage(self) -> None:
        plan = self.plan
        changes: list[tuple[str, Any]] = []
        if plan.assignee:
            changes.append(("assignee", plan.assignee.who))
        if self.kind == texts.CLINICIAN:
            changes.append(("category", plan.topic.category))
        if self.kind == texts.CONCIERGE and self.rng.random() < 0.5:
            changes.append(("due_at", plan.opened_at + self._hours(24, 24 * 6)))
        if plan.priority != Priority.URGENT and self.rng.random() < 0.05:
            changes.append(("priority", Priority.URGENT))
        actor = self.cast.lead.who if self.rng.random() < 0.3 else plan.replier.who
        self._add(self._minutes(2, 45), lambda at: self.story.update(actor, changes, at=at))

    def _agent_reply(self, pool: Pool, *, gap: int) -> None:
        texts_pool = pool if isinstance(pool, tuple) else pool[self.kind]
        text = self._text(texts_pool)
        replier = self.replier.who
        self._add(gap, lambda at: self.story.reply(replier, self.customer_thread, text=text, at=at))

    def _customer(self, pool: tuple[str, ...], *, gap: int) -> None:
        text = self._text(pool)
        self._add(gap, lambda at: self.story.receive(self.customer_thread, text=text, at=at))

    def _note(self, pool: tuple[str, ...], *, gap: int) -> None:
        text = self._text(pool)
        replier = self.replier.who
        self._add(gap, lambda at: self.story.note(replier, text=text, at=at))

    def _status(self, status: str, *, gap: int, actor: Any = None) -> None:
        who = self.replier.who if actor is None else actor
        self._add(gap, lambda at: self.story.update(who, [("status", status)], at=at))

    def _vendor_out(self, *, gap: int) -> None:
        index = len(self.vendor_threads)
        if index < len(self.plan.vendors) and (index == 0 or self.rng.random() < 0.3):
            self._open_vendor_thread(index, gap=gap)
            gap = self._minutes(1, 5)
        text = self._text(texts.VENDOR_OUTBOUND[self._vendor_channel()])
        replier = self.replier.who
        threads, current = self.vendor_threads, len(self.vendor_threads) - 1
        self._add(gap, lambda at: self.story.reply(replier, threads[current], text=text, at=at))

    def _vendor_in(self, *, gap: int) -> None:
        text = self._text(texts.VENDOR_INBOUND[self._vendor_channel()])
        threads, current = self.vendor_threads, len(self.vendor_threads) - 1
        self._add(gap, lambda at: self.story.receive(threads[current], text=text, at=at))

    def _open_vendor_thread(self, index: int, *, gap: int) -> None:
        contact, name = self.plan.vendors[index]
        channel = self._pick_vendor_channel(contact)
        self.plan.values["vendor"] = name
        subject = f"{self.plan.topic.category}: {name}"
        replier = self.replier.who
        # Until the step runs, a stand-in carries the channel the later texts are written for.
        self.vendor_threads.append([None, None, None, channel])
        threads, current = self.vendor_threads, len(self.vendor_threads) - 1

        def step(at: int) -> None:
            threads[current] = self.story.open_thread(
                replier, contact_id=contact.id, channel=channel, subject=subject, at=at
            )

        self._add(gap, step)

    def _pick_vendor_channel(self, contact: SeedContact) -> str:
        options = [(Channel.PHONE, 45), (Channel.EMAIL, 40)]
        if IdentityKind.WHATSAPP in contact.kinds:
            options.append((Channel.WHATSAPP, 15))
        return self.rng.choices([c for c, _ in options], [w for _, w in options])[0]

    def _vendor_channel(self) -> str:
        return str(self.vendor_threads[-1][3])

    def _conversation(self, budget: int) -> None:
        escalate = self.plan.topic.kind == texts.ESCALATION
        if escalate and budget > 0 and self.plan.target != Status.ON_HOLD:
            self._escalate(status=None)
            budget -= 1
        reopened = False
        while budget > 0:
            unit = self._unit(budget, reopened)
            reopened = reopened or unit == "reopen"
            budget -= self._play(unit)

    def _unit(self, budget: int, reopened: bool) -> str:
        units = ["customer", "agent", "note"]
        weights = [30, 30, 8]
        if budget >= 2:
            units.append("ask")
            weights.append(12)
            if self.plan.vendors:
                units.append("vendor")
                weights.append(60 if not self.vendor_threads else 20)
            if not reopened and self.plan.target in (Status.SOLVED, Status.CLOSED, Status.OPEN):
                units.append("reopen")
                weights.append(4)
        return self.rng.choices(units, weights)[0]

    def _play(self, unit: str) -> int:
        """Add one unit of conversation and return how many messages it used."""
        kind = self.kind
        if unit == "customer":
            self._customer(self.plan.topic.follow_ups, gap=self._hours(0.2, 20))
        elif unit == "agent":
            self._agent_reply(texts.AGENT_REPLIES[kind], gap=self._hours(0.1, 6))
        elif unit == "note":
            self._note(texts.NOTES[kind], gap=self._minutes(2, 90))
        elif unit == "ask":
            self._agent_reply(texts.AGENT_ASKS[kind], gap=self._hours(0.1, 4))
            self._status(Status.PENDING_CUSTOMER, gap=self._minutes(0, 2))
            self._customer(self.plan.topic.follow_ups, gap=self._hours(0.5, 30))
        elif unit == "vendor":
            self._vendor_out(gap=self._minutes(5, 120))
            if self.rng.random() < 0.5:
                self._status(Status.PENDING_THIRD_PARTY, gap=self._minutes(0, 2))
            self._vendor_in(gap=self._hours(0.3, 12))
        else:
            self._agent_reply(texts.AGENT_SOLUTIONS, gap=self._hours(0.5, 8))
            self._status(Status.SOLVED, gap=self._minutes(1, 30))
            self._customer(texts.CUSTOMER_REOPENS, gap=self._hours(2, 60))
        return {"customer": 1, "agent": 1, "note": 1}.get(unit, 2)

    def _escalate(self, *, status: str | None) -> None:
        self._note(texts.ESCALATION_NOTES, gap=self._minutes(10, 120))
        engineers = [
            a for a in self.cast.team_agents(ENGINEERING) if a.may_open(self.plan.sensitivity)
        ] or [self.cast.lead]
        engineer = self.rng.choice(engineers)
        changes: list[tuple[str, Any]] = [
            ("team", self.story_team(ENGINEERING)),
            ("assignee", engineer.who),
        ]
        if status:
            changes.append(("status", status))
        actor = self.replier.who
        self._add(self._minutes(1, 5), lambda at: self.story.update(actor, changes, at=at))
        self.replier = engineer
        self.plan.values["agent"] = engineer.first_name

    def _ending(self) -> None:
        target = self.plan.target
        if target == Status.PENDING_CUSTOMER:
            self._agent_reply(texts.AGENT_ASKS, gap=self._hours(0.2, 8))
            self._status(target, gap=self._minutes(0, 2))
        elif target == Status.PENDING_THIRD_PARTY:
            self._vendor_out(gap=self._minutes(5, 120))
            self._status(target, gap=self._minutes(0, 2))
        elif target == Status.ON_HOLD:
            self._on_hold()
        elif target in (Status.SOLVED, Status.CLOSED):
            self._agent_reply(texts.AGENT_SOLUTIONS, gap=self._hours(0.5, 8))
            self._status(Status.SOLVED, gap=self._minutes(1, 30))
            if target == Status.CLOSED:
                # Solved cases close on their own after a few quiet days: no actor.
                self._add(
                    self._hours(72, 140),
                    lambda at: self.story.update(None, [("status", Status.CLOSED)], at=at),
                )

    def _on_hold(self) -> None:
        if self.plan.topic.kind == texts.ESCALATION:
            self._escalate(status=Status.ON_HOLD)
        else:
            self._note(texts.ON_HOLD_NOTES, gap=self._minutes(10, 240))
            self._status(Status.ON_HOLD, gap=self._minutes(0, 3))
