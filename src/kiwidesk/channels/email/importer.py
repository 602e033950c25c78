"""Import every message of a local mailbox through ingest (`kiwidesk import-mail`).

A large archive is parsed by a pool of worker processes while this process writes
what they parsed, a batch at a time (`ingest.batch.ingest_many`), so parsing and
storing run on different cores.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool

from django.db import transaction

from kiwidesk.accounts.models import Team
from kiwidesk.channels.email.adapter import CHANNEL, UnparseableMessageError, digest_id, parse
from kiwidesk.channels.email.mailboxes import LocalMailbox
from kiwidesk.ingest.batch import BATCH_SIZE, Outcome, ingest_many
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.prestore import prestore
from kiwidesk.ingest.services import IngestResult, UnroutableMessageError, ingest, quarantine
from kiwidesk.sla import tasks as sla_tasks

# Below this many messages a pool costs more to start than it saves.
POOL_FROM_MESSAGES = 2 * BATCH_SIZE
# Batches parsed ahead of the writer: enough to keep both sides busy, few enough that
# memory stays bounded however large the archive.
BATCHES_AHEAD = 3


@dataclass(frozen=True)
class ImportSummary:
    read: int
    stored: int
    duplicates: int
    new_cases: int
    quarantined: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Unparseable:
    """Bytes the parser refused, with its reason, to be quarantined as they are."""

    raw: bytes
    reason: str


Parsed = InboundMessage | Unparseable


@dataclass
class _Counts:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    new_cases: int = 0
    quarantined: int = 0
    started: float = field(default_factory=time.perf_counter)

    def summary(self) -> ImportSummary:
        seconds = time.perf_counter() - self.started
        return ImportSummary(
            self.read, self.stored, self.duplicates, self.new_cases, self.quarantined, seconds
        )


def import_mailbox(
    mailbox: LocalMailbox,
    *,
    source: str,
    team: Team | None = None,
    progress: Callable[[int], object] = lambda done: None,
    workers: int | None = None,
) -> ImportSummary:
    """Parse and ingest each message; quarantine what cannot become a message.

    Idempotent: ingest recognises (source, Message-ID) it stored before, so a second
    run over the same mailbox stores nothing new. New cases go to `team` when given.
    Messages are stored in the mailbox's order, BATCH_SIZE to a transaction; `progress`
    is called with the number done after each batch. `workers` parse processes (by
    default one per core up to two, none for a small mailbox) parse ahead of the
    writer and write each message's files.
    """
    counts = _Counts()
    if workers is None:
        workers = min(os.cpu_count() or 1, 2) if mailbox.count >= POOL_FROM_MESSAGES else 0
    raws = (mail.raw for mail in mailbox)
    for batch in _parsed_batches(raws, source=source, workers=workers):
        _import_batch(batch, source=source, team=team, counts=counts)
        progress(len(batch))
    return counts.summary()


def parse_or_refuse(raw: bytes, source: str) -> Parsed:
    """Parse raw mail, or say why it cannot be parsed."""
    try:
        return parse(raw, source)
    except UnparseableMessageError as exc:
        return Unparseable(raw, exc.reason)


def _parse_and_prestore(raw: bytes, source: str) -> Parsed:
    """What a parse worker does: parse, and write the message's files for the writer."""
    parsed = parse_or_refuse(raw, source)
    if isinstance(parsed, InboundMessage):
        parsed = prestore(parsed)
    return parsed


def _parsed_batches(raws: Iterable[bytes], *, source: str, workers: int) -> Iterator[list[Parsed]]:
    batches = _batched(raws, BATCH_SIZE)
    if workers < 1:
        for batch in batches:
            yield [parse_or_refuse(raw, source) for raw in batch]
        return
    # fork: the workers inherit the configured Django and only parse; they never touch
    # the parent's database connection.
    with _fewer_collections(), multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from _parse_ahead(pool, batches, source=source)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector rarely, and never over what existed before the import.

    A large import allocates millions of short-lived objects, mostly freed by
    reference counting; the collector's passes cost the writer about 15% of its time.
    Freezing before the fork also keeps the collector from touching, and so copying,
    the memory the parse workers share with this process.
    """
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def _parse_ahead(
    pool: Pool, batches: Iterator[list[bytes]], *, source: str
) -> Iterator[list[Parsed]]:
    window: deque[AsyncResult[list[Parsed]]] = deque()
    parse_one = partial(_parse_and_prestore, source=source)
    for batch in batches:
        window.append(pool.map_async(parse_one, batch, chunksize=25))
        if len(window) > BATCHES_AHEAD:
            yield window.popleft().get()
    while window:
        yield window.popleft().get()


def _batched(raws: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    iterator = iter(raws)
    while batch := list(islice(iterator, size)):
        yield batch


def _import_batch(batch: list[Parsed], *, source: str, team: Team | None, counts: _Counts) -> None:
    messages = [parsed for parsed in batch if isinstance(parsed, InboundMessage)]
    results = ingest_many(messages, team=team)
    _queue_clock_updates(results)
    outcomes = iter(results)
    for parsed in batch:
        counts.read += 1
        if isinstance(parsed, Unparseable):
            _quarantine_unparseable(parsed.raw, parsed.reason, source=source)
            counts.quarantined += 1
            continue
        outcome = next(outcomes)
        if isinstance(outcome, UnroutableMessageError):
            _quarantine_unroutable(parsed, outcome)
            counts.quarantined += 1
        elif outcome.duplicate:
            counts.duplicates += 1
        else:
            counts.stored += 1
            counts.new_cases += outcome.created_case


def _queue_clock_updates(outcomes: list[Outcome]) -> None:
    """Ask the worker for the SLA clocks of the cases a batch wrote to.

    The batch inserts its Events in bulk, so the per-Event signal that keeps clocks
    current does not fire for them.
    """
    case_ids = sorted(
        {o.case.pk for o in outcomes if isinstance(o, IngestResult) and not o.duplicate}
    )
    if case_ids:
        transaction.on_commit(partial(sla_tasks.recompute_cases.enqueue, case_ids), robust=True)


def import_message(
    raw: bytes, *, source: str, team: Team | None, enforce_rate_limit: bool
) -> IngestResult | None:
    """Parse and ingest one raw mail, or quarantine it and return None.

    The one parse → ingest → quarantine step of every mail source (import-mail, IMAP).
    Raises only what ingest raises besides UnroutableMessageError (a database error).
    """
    parsed = parse_or_refuse(raw, source)
    if isinstance(parsed, Unparseable):
        _quarantine_unparseable(raw, parsed.reason, source=source)
        return None
    try:
        return ingest(parsed, team=team, enforce_rate_limit=enforce_rate_limit)
    except UnroutableMessageError as exc:
        _quarantine_unroutable(parsed, exc)
        return None


def _quarantine_unparseable(raw: bytes, reason: str, *, source: str) -> None:
    # Keyed by the bytes' digest, so importing the same mailbox again keeps one copy.
    quarantine(
        raw,
        channel=CHANNEL,
        source=source,
        reason=f"unparseable: {reason}",
        external_id=digest_id(raw),
    )


def _quarantine_unroutable(message: InboundMessage, exc: UnroutableMessageError) -> None:
    quarantine(
        message.raw,
        channel=CHANNEL,
        source=message.source,
        reason=f"{exc.reason}: {exc.detail}",
        external_id=message.external_id,
    )
