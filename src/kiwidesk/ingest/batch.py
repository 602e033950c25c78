"""Ingest many emails at once: what `ingest` does one by one, with a few queries a batch.

An archive import or a large fetch hands ingest thousands of mails. One by one, each
costs about sixteen queries and a transaction. Here a batch is read with one query per
kind of lookup (receipts, identities, referenced Message-IDs, reply tokens, subject
tokens, the cases they lead to), routed in memory, and written with one bulk insert per
table, in one transaction. Messages of a batch may answer each other: routing reads the
rows the batch has already planned as well as the stored ones.

The outcome is what `ingest(message, team=team, enforce_rate_limit=False)` gives for
each message in order: the same contacts, cases, threads, messages, attachments,
Events and receipts. What the batch does not plan itself goes through `ingest` at its
place in the order (another channel, a mail forwarded in by an agent); when a
concurrent writer gets in the way, the batch rolls back and every message goes
through `ingest`. The planning itself is in `planner.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Channel
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.planner import Clock, ConcurrentChangeError, Item, Outcome, Segment, new_item
from kiwidesk.ingest.services import (
    IngestResult,
    UnroutableMessageError,
    _forwarding_agent,
    ingest,
    queue_automatic_merges,
)

__all__ = ["BATCH_SIZE", "Outcome", "ingest_many"]

# A few hundred messages a transaction: large enough that the per-query cost vanishes,
# small enough that a webhook waiting for SQLite's write lock waits well under a second.
BATCH_SIZE = 500


def ingest_many(messages: Sequence[InboundMessage], *, team: Team | None = None) -> list[Outcome]:
    """Ingest `messages` in order; return, for each, its result or the error to quarantine.

    The same as `ingest(message, team=team, enforce_rate_limit=False)` for each in
    turn (no rate limit: this is for archives and large fetches), in one transaction.
    Idempotent on (source, external id) like `ingest`: the receipts are claimed first,
    so a concurrent delivery of the same mail makes one side hit the unique constraint;
    then (or when a routed case was merged meanwhile) the batch rolls back and each
    message goes through `ingest` on its own, which settles the race as usual.
    """
    if not messages:
        return []
    try:
        with transaction.atomic():
            return _Batch(team).run(messages)
    except (IntegrityError, ConcurrentChangeError):
        return [_one(message, team) for message in messages]


def _one(message: InboundMessage, team: Team | None) -> Outcome:
    try:
        return ingest(message, team=team, enforce_rate_limit=False)
    except UnroutableMessageError as error:
        return error


def _needs_ingest(item: Item) -> bool:
    """Whether `ingest` itself must store this one: the cases the batch does not plan."""
    message = item.message
    if message.channel != Channel.EMAIL or message.sender.kind != IdentityKind.EMAIL:
        return True
    if item.address is None or message.forwarded_from is None:
        return False
    return _forwarding_agent(message, item.address) is not None


class _Batch:
    def __init__(self, team: Team | None) -> None:
        self.team = team
        self.clock = Clock()

    def run(self, messages: Sequence[InboundMessage]) -> list[Outcome]:
        items = [new_item(message) for message in messages]
        outcomes: list[Outcome] = []
        start = 0
        while start < len(items):
            if _needs_ingest(items[start]):
                outcomes.append(_one(items[start].original, self.team))
                start += 1
                continue
            end = _segment_end(items, start)
            segment = Segment(self.team, self.clock, items[start:end])
            done = segment.write()
            # What `ingest` stored queued its own; the planned ones are queued here.
            queue_automatic_merges(
                [outcome for outcome in done if isinstance(outcome, IngestResult)]
            )
            outcomes.extend(done)
            start += len(done)
        return outcomes


def _segment_end(items: list[Item], start: int) -> int:
    """Where a run of plannable messages ends: before one `ingest` must store, or a
    second delivery of a key, which must find the first one's stored message."""
    claims = set()
    end = start
    while end < len(items) and end - start < BATCH_SIZE:
        item = items[end]
        if item.claim in claims or (end > start and _needs_ingest(item)):
            break
        claims.add(item.claim)
        end += 1
    return end
