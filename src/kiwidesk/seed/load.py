"""Seed an empty database with demo data, fast: plan in memory, write with executemany."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction

from kiwidesk.cases.models import Case, Event, Message, Party, Tag, Thread, new_reply_token
from kiwidesk.seed import texts
from kiwidesk.seed.errors import DatabaseNotEmptyError, SeedError
from kiwidesk.seed.people import create_cast
from kiwidesk.seed.plan import CasePlan, plan_cases
from kiwidesk.seed.script import tell
from kiwidesk.seed.story import Ids, Rows, Story
from kiwidesk.vault.fields import EncryptedTextField

BATCH_CASES = 2_000
CaseTags = Case.tags.through


@dataclass(frozen=True)
class SeedResult:
    cases: int
    threads: int
    messages: int
    events: int
    contacts: int
    seconds: float


Progress = Callable[[int], None]  # called with the number of messages just written


def seed_database(
    *,
    cases: int,
    messages: int,
    seed: int,
    now: int | None = None,
    progress: Progress | None = None,
) -> SeedResult:
    """Fill an empty database with `cases` cases holding `messages` messages in all.

    The same `seed` and `now` give the same rows. Raises DatabaseNotEmptyError if any
    case exists, SeedError if the counts cannot be met.
    """
    started = time.monotonic()
    if cases < 1:
        raise SeedError("--cases must be at least 1")
    ensure_empty()
    now = int(time.time()) if now is None else now
    rng = random.Random(seed)
    contacts = max(200, cases // 5)
    with transaction.atomic():
        cast = create_cast(rng, contacts=contacts)
        tag_ids = _create_tags()
    plans = plan_cases(rng, cast, cases=cases, messages=messages, now=now)
    first_ids = Ids(thread=_next_id(Thread), message=_next_id(Message), event=_next_id(Event))
    ids = Ids(first_ids.thread, first_ids.message, first_ids.event)
    first_case = _next_id(Case)
    rows = Rows(stamp_suffix="" if connection.vendor == "sqlite" else "+00:00")
    with _bulk_load():
        for start in range(0, len(plans), BATCH_CASES):
            batch = plans[start : start + BATCH_CASES]
            _tell_batch(rng, rows, ids, batch, first_case + start, cast, tag_ids, now)
            written = len(rows.messages)
            _write(rows)
            if progress:
                progress(written)
    _reset_sequences()
    _analyse()
    return SeedResult(
        cases=cases,
        threads=ids.thread - first_ids.thread,
        messages=ids.message - first_ids.message,
        events=ids.event - first_ids.event,
        contacts=contacts,
        seconds=time.monotonic() - started,
    )


def ensure_empty() -> None:
    """Refuse to mix demo data with real cases (or with an earlier seed)."""
    if Case.objects.exists():
        raise DatabaseNotEmptyError(
            f"the database already holds {Case.objects.count()} cases; seed an empty "
            "database (point KIWIDESK_DATA_DIR or DATABASE_URL at a new one)"
        )


def _create_tags() -> dict[str, int]:
    names = {"vip"}
    for topic in texts.CLINICIAN_TOPICS + texts.CONCIERGE_TOPICS + texts.ESCALATION_TOPICS:
        names.update(topic.tags)
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


def _tell_batch(
    rng: random.Random,
    rows: Rows,
    ids: Ids,
    batch: Sequence[CasePlan],
    first_case: int,
    cast: Any,
    tag_ids: dict[str, int],
    now: int,
) -> None:
    for offset, plan in enumerate(batch):
        story = Story(rows, ids, case_id=first_case + offset, customer_id=plan.customer.id)
        tell(rng, rows, story, plan, cast=cast, tag_ids=tag_ids, now=now)


def _next_id(model: type[models.Model]) -> int:
    highest = model._default_manager.aggregate(highest=models.Max("pk"))["highest"]
    return (highest or 0) + 1


def _insert_sql(model: type[models.Model]) -> str:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [str(f.column) for f in meta.concrete_fields]
    if model is CaseTags:
        columns = [c for c in columns if c != meta.pk.column]
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    # Names come from our own models, values go through placeholders.
    return f"INSERT INTO {quote(str(meta.db_table))} ({names}) VALUES ({marks})"  # noqa: S608


def _reply_token(party: str) -> str | None:
    """Threads with a party get a reply token, as cases.services gives them."""
    return None if party == Party.INTERNAL else new_reply_token()


def _write(rows: Rows) -> None:
    """Write one batch in one transaction, parents first, then forget it."""
    stamp = rows.stamp
    threads = [(*t[:6], _reply_token(t[2]), stamp(t[6]), stamp(t[7])) for t in rows.threads]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_insert_sql(Case), rows.cases)
        cursor.executemany(_insert_sql(Thread), threads)
        cursor.executemany(_insert_sql(Message), _sealed(Message, rows.messages))
        cursor.executemany(_insert_sql(Event), rows.events)
        cursor.executemany(_insert_sql(CaseTags), rows.case_tags)
    rows.clear()


def _sealed(model: type[models.Model], rows: list[Any]) -> list[tuple[Any, ...]]:
    """The rows with their encrypted and JSON columns prepared, as save() would
    (executemany skips it)."""
    sealed = [
        (position, field)
        for position, field in enumerate(model._meta.concrete_fields)
        if isinstance(field, EncryptedTextField | models.JSONField)
    ]
    result = []
    for row in rows:
        values = list(row)
        for position, field in sealed:
            values[position] = field.get_db_prep_save(values[position], connection)
        result.append(tuple(values))
    return result


@contextmanager
def _bulk_load() -> Iterator[None]:
    """On SQLite, trade crash safety for speed while loading, and restore it afterwards.

    A crash mid-load leaves a database to delete anyway, so not syncing is safe here.
    """
    # Inside a transaction (tests) SQLite refuses to change the safety level.
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        (synchronous,) = cursor.fetchone()
        cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(synchronous)}")


def _analyse() -> None:
    """Give the query planner fresh statistics for the tables it has never seen full.

    Without them SQLite guesses, and on 100,000 cases it picks the status index and
    sorts thousands of rows for an inbox page that the updated_at index serves in
    2 ms (see bench/README.md).
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _reset_sequences() -> None:
    """Explicit ids do not move PostgreSQL's sequences; move them past the seeded rows."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Case, Thread, Message, Event])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
