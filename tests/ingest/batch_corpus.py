"""A mailbox's worth of inbound messages and the stored rows they leave, normalised.

The same corpus ingested one by one and in batches must leave the same rows; ids and
times differ between two runs, so rows are compared with ids replaced by their rank
in the table and times by their rank among all times of the run.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services as cases
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import (
    Attachment,
    Case,
    Channel,
    Event,
    Message,
    Party,
    Status,
    Thread,
)
from kiwidesk.contacts.models import Contact, Identity, IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.ingest.batch import Outcome
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.models import Receipt
from kiwidesk.ingest.services import IngestResult, UnroutableMessageError, ingest
from tests.ingest import inbound

VENDOR = "bookings@harbour-view.example.com"
PDF = NewAttachment("report.pdf", "application/pdf", b"%PDF-1.4 report")
EXE = NewAttachment("setup.exe", "application/octet-stream", b"MZ\x90\x00")
INLINE = NewAttachment("shot.png", "image/png", b"\x89PNG\r\n", content_id="shot@mail.example.org")


@dataclass(frozen=True)
class Story:
    """What the corpus answers: the cases and messages stored before it arrives."""

    open_case: Case
    solved_case: Case
    closed_case: Case
    pending_case: Case
    quiet_case: Case
    merged_case: Case
    customer_token: str


def given_a_history(agent: Agent) -> Story:
    """Cases in every state the corpus can reach, with a vendor thread and a note."""
    first = ingest(inbound.email("c1@example.org", external_id="a1@mail.example.org"))
    vendor = find_or_create_contact(IdentityKind.EMAIL, VENDOR, is_third_party=True)
    vendor_thread = cases.open_thread(agent, first.case, contact=vendor, channel=Channel.EMAIL)
    sent = cases.reply(agent, vendor_thread, text="Could you confirm the table for four?")
    Message.objects.filter(pk=sent.pk).update(external_id="out-1@kiwidesk.test")
    note = cases.add_note(agent, first.case, text="Called the clinic.")
    Message.objects.filter(pk=note.pk).update(external_id="note-1@kiwidesk.test")
    cases.open_thread(
        agent, first.case, contact=first.message.author_contact, channel=Channel.SMS,
        party=Party.CUSTOMER,
    )  # fmt: skip
    cases.update_case(agent, first.case, {"status": Status.PENDING_THIRD_PARTY})
    merged = ingest(inbound.email("c1@example.org", external_id="f1@mail.example.org"))
    cases.merge_cases(agent, source=merged.case, target=first.case)
    return Story(
        open_case=first.case,
        solved_case=_case_in("c2@example.org", "b1@mail.example.org", Status.SOLVED, agent),
        closed_case=_case_in("c3@example.org", "d1@mail.example.org", Status.CLOSED, agent),
        pending_case=_case_in(
            "c4@example.org", "e1@mail.example.org", Status.PENDING_CUSTOMER, agent
        ),
        quiet_case=_case_in("c5@example.org", "g1@mail.example.org", Status.SOLVED, agent),
        merged_case=merged.case,
        customer_token=str(first.thread.reply_token),
    )  # fmt: skip


def _case_in(sender: str, external_id: str, status: str, agent: Agent) -> Case:
    case = ingest(inbound.email(sender, external_id=external_id)).case
    return cases.update_case(agent, case, {"status": status})


def corpus(story: Story, *, seed: int = 7, random_messages: int = 120) -> list[InboundMessage]:
    """Every kind of mail a mailbox holds, then random replies among many senders."""
    return [*_kinds(story), *_random_mail(seed, random_messages)]


def _kinds(story: Story) -> list[InboundMessage]:
    e = inbound.email
    return [
        e("c1@example.org", external_id="k1@x", in_reply_to="a1@mail.example.org", raw=b"k1"),
        e(VENDOR, external_id="k2@x", in_reply_to="out-1@kiwidesk.test"),
        e(VENDOR, external_id="k3@x", in_reply_to="a1@mail.example.org"),
        e("stranger@example.net", external_id="k4@x", in_reply_to="note-1@kiwidesk.test"),
        e("c2@example.org", external_id="k5@x", in_reply_to="b1@mail.example.org"),
        e("c3@example.org", external_id="k6@x", in_reply_to="d1@mail.example.org"),
        e("c3@example.org", external_id="k7@x", subject="Another question"),
        e("c4@example.org", external_id="k8@x", references=("e1@mail.example.org", "gone@x")),
        e("c5@example.org", external_id="k9@x", in_reply_to="g1@mail.example.org",
          is_automated=True, text="I am out of the office."),
        e("c1@example.org", external_id="k10@x", reply_token=story.customer_token.upper()),
        e("c1@example.org", external_id="k11@x", subject=f"Re: [#{story.open_case.pk}] booking"),
        e("stranger@example.net", external_id="k12@x", subject=f"[KD-{story.open_case.pk}]"),
        e("c1@example.org", external_id="k13@x", subject=f"[#{story.merged_case.pk}] again"),
        e("c1@example.org", external_id="k14@x", subject="[#999999999] a case never opened"),
        e("new1@example.org", external_id="n1@x", subject="Locked out", attachments=(PDF,)),
        e("new1@example.org", external_id="n2@x", in_reply_to="n1@x",
          attachments=(PDF, EXE, INLINE)),
        e("new2@example.org", external_id="n3@x", in_reply_to="n1@x", text=""),
        e("new2@example.org", external_id="n4@x", text="", attachments=(EXE,)),
        e("new3@example.org", external_id="n5@x", html="<p onclick='x()'>Hi<script>1</script>",
          text=""),
        e("k1-again@example.org", external_id="k1@x"),
        e("c1@example.org", external_id="a1@mail.example.org"),
        e("not an address", external_id="bad@x"),
        inbound.sms(external_id="SM-batch-1"),
        e("agent@kiwidesk.test", external_id="fw1@x", subject="Fwd: help",
          forwarded_from=Sender(IdentityKind.EMAIL, "forwarded@example.org", "Original")),
        e("someone@example.org", external_id="fw2@x",
          forwarded_from=Sender(IdentityKind.EMAIL, "forwarded@example.org")),
        InboundMessage(channel="pigeon", source="loft", external_id="p1",
                       sender=Sender(IdentityKind.EMAIL, "bird@example.org"), text="Coo"),
        e("new4@example.org", external_id="", raw=b"no message id"),
        e("new4@example.org", external_id="", raw=b"no message id"),
    ]  # fmt: skip


def _random_mail(seed: int, count: int) -> list[InboundMessage]:
    rng = random.Random(seed)
    senders = [f"sender{n}@example.org" for n in range(count // 4)]
    sent: list[str] = ["n1@x", "k1@x", "a1@mail.example.org"]
    mail = []
    for number in range(count):
        external_id = f"r{number}@x" if rng.random() > 0.05 else rng.choice(sent)
        answering = rng.choice(sent) if rng.random() < 0.4 else ""
        mail.append(
            inbound.email(
                rng.choice(senders),
                external_id=external_id,
                subject=f"Question {number}",
                in_reply_to=answering,
                is_automated=rng.random() < 0.05,
                attachments=(PDF,) if rng.random() < 0.2 else (),
            )
        )
        sent.append(external_id)
    return mail


def one_by_one(messages: list[InboundMessage], team: Team | None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for message in messages:
        try:
            outcomes.append(ingest(message, team=team, enforce_rate_limit=False))
        except UnroutableMessageError as error:
            outcomes.append(error)
    return outcomes


Ingest = Callable[[list[InboundMessage], Team | None], list[Outcome]]


def normalised_rows(outcomes: list[Outcome]) -> dict[str, list[Any]]:
    """Every row ingest writes, with ids and times as ranks, and the outcomes likewise."""
    ids = _Ranks()
    times = _time_ranks()
    rows: dict[str, list[Any]] = {
        "contacts": [
            (c.name, c.is_third_party, sorted(c.identities.values_list("kind", "value")))
            for c in Contact.objects.order_by("pk")
        ],
        "identities": list(
            Identity.objects.order_by("pk").values_list("kind", "value", "is_primary")
        ),
        "cases": [
            (ids.rank(Contact, c.customer_id), _subject(c.subject, ids), c.channel, c.status,
             c.team_id, times[c.created_at], times[c.updated_at], times.get(c.solved_at),
             times.get(c.closed_at), c.merged_into_id is not None)
            for c in Case.objects.order_by("pk")
        ],
        "threads": [
            (ids.rank(Case, t.case_id), t.party, t.channel, ids.rank(Contact, t.contact_id),
             _subject(t.subject, ids), t.reply_token is not None, times[t.created_at],
             times.get(t.last_message_at))
            for t in Thread.objects.order_by("pk")
        ],
        "messages": [
            (ids.rank(Case, m.case_id), ids.rank(Thread, m.thread_id), m.direction,
             ids.rank(Contact, m.author_contact_id), m.body_text, m.body_html, m.external_id,
             m.full_text, str(m.raw_file), m.is_automated, m.delivery_status,
             times[m.created_at])
            for m in Message.objects.order_by("pk")
        ],
        "attachments": [
            (ids.rank(Message, a.message_id), str(a.file), a.filename, a.content_type, a.size,
             a.sha256, a.content_id)
            for a in Attachment.objects.order_by("pk")
        ],
        "events": [
            (ids.rank(Case, e.case_id), e.kind, e.actor_id is not None,
             ids.rank(Thread, e.thread_id), ids.rank(Message, e.message_id),
             _payload(e.payload, ids), times[e.created_at])
            for e in Event.objects.order_by("pk")
        ],
        "receipts": [
            (r.source, r.external_id if not r.external_id.startswith("none:") else "none",
             r.sender, ids.rank(Message, r.message_id))
            for r in Receipt.objects.order_by("pk")
        ],
    }  # fmt: skip
    rows["outcomes"] = [_outcome(outcome, ids) for outcome in outcomes]
    return rows


def _subject(subject: str, ids: _Ranks) -> str:
    """A subject naming a case by id names it by rank (ids differ between two runs)."""

    def ranked(match: re.Match[str]) -> str:
        return f"[case {ids.rank(Case, int(match.group(1)))}]"

    return re.sub(r"\[(?:#|KD-)(\d{1,8})\]", ranked, subject)


def _outcome(outcome: Outcome, ids: _Ranks) -> Any:
    if not isinstance(outcome, IngestResult):
        return str(outcome)
    merge = outcome.suggested_merge
    return (
        ids.rank(Message, outcome.message.pk), ids.rank(Case, outcome.case.pk),
        ids.rank(Thread, outcome.thread.pk), outcome.created_case, outcome.duplicate,
        ids.rank(Case, merge.pk if merge is not None else None),
    )  # fmt: skip


def _payload(payload: dict[str, Any], ids: _Ranks) -> dict[str, Any]:
    ranked = dict(payload)
    for name in ("other_case_id", "closed_case_id", "source_id", "target_id"):
        if name in ranked:
            ranked[name] = ids.rank(Case, ranked[name])
    return ranked


class _Ranks:
    """A row's id as its position in its table, so two runs can be compared."""

    def __init__(self) -> None:
        self.tables: dict[type, dict[int, int]] = {}

    def rank(self, model: type, pk: int | None) -> int | None:
        if pk is None:
            return None
        if model not in self.tables:
            keys = model.objects.order_by("pk").values_list("pk", flat=True)  # type: ignore[attr-defined]
            self.tables[model] = {key: number for number, key in enumerate(keys)}
        return self.tables[model][pk]


def _time_ranks() -> _Times:
    seen: set[datetime] = set()
    for model, names in (
        (Case, ("created_at", "updated_at", "solved_at", "closed_at")),
        (Thread, ("created_at", "last_message_at")),
        (Message, ("created_at",)),
        (Event, ("created_at",)),
    ):
        for values in model.objects.values_list(*names):  # type: ignore[attr-defined]
            seen.update(value for value in values if value is not None)
    return _Times({at: number for number, at in enumerate(sorted(seen))})


class _Times(dict[datetime, int]):
    def get(self, at: datetime | None, default: Any = None) -> Any:  # type: ignore[override]
        return None if at is None else self[at]
