"""The one writer of the audit log, and the check that the log is unbroken.

Each record's digest is sha256 over the previous record's digest and the record's own
canonical fields, so editing, deleting or inserting a record breaks every digest after
it. Appends are serialised so two writers never fork the chain: PostgreSQL takes a
transaction-level advisory lock; SQLite's IMMEDIATE write transaction already holds
the database's one write lock when the previous digest is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from kiwidesk.accounts.models import Agent, Role
from kiwidesk.privacy.models import AuditOutcome, AuditRecord

GENESIS_DIGEST = "0" * 64
# Any constant works; it only has to be the same for every writer of the log.
_CHAIN_LOCK_KEY = 0x4B495749_41554454
VERIFY_BATCH = 2000
_HEAD_SQL = "SELECT sequence, digest FROM privacy_auditrecord ORDER BY sequence DESC LIMIT 1"
EXPORT_BATCH = 2000


class AuditPurpose:
    VIEW = "audit.view"
    EXPORT = "audit.export"


class AuditLogForbiddenError(PermissionError):
    """Only active administrators may read the audit log."""


def canonical(
    *,
    sequence: int,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    reason: str,
    created_at: datetime,
) -> str:
    """The fixed serialisation a digest covers: a JSON array, ids as text, time in UTC."""
    fields = [
        str(sequence),
        "" if actor_id is None else str(actor_id),
        actor_label,
        action,
        object_type,
        object_id,
        outcome,
        reason,
        created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def chain_digest(previous_digest: str, canonical_fields: str) -> str:
    return hashlib.sha256(f"{previous_digest}\n{canonical_fields}".encode()).hexdigest()


def digest_of(record: AuditRecord, previous_digest: str) -> str:
    return chain_digest(
        previous_digest,
        canonical(
            sequence=record.sequence,
            actor_id=record.actor_id,
            actor_label=record.actor_label,
            action=record.action,
            object_type=record.object_type,
            object_id=record.object_id,
            outcome=record.outcome,
            reason=record.reason,
            created_at=record.created_at,
        ),
    )


def record(
    actor: Agent | None,
    action: str,
    object_type: str,
    object_id: str | int,
    outcome: str,
    reason: str = "",
    at: datetime | None = None,
) -> AuditRecord:
    """Append one record to the audit log and return it."""
    # No savepoint: the caller's transaction, or this one, holds the chain until commit.
    with transaction.atomic(savepoint=False):
        sequence, previous_digest = _chain_head()
        entry = AuditRecord(
            actor=actor,
            actor_label=actor.email if actor is not None else "",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            reason=reason[:200],
            created_at=at or timezone.now(),
            sequence=sequence,
        )
        entry.digest = digest_of(entry, previous_digest)
        entry.save(force_insert=True)
        return entry


def _chain_head() -> tuple[int, str]:
    """The next sequence number and the digest to chain from, the chain held until commit.

    Raw SQL: the ORM's query compilation cost as much as the insert on this hot path.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        cursor.execute(_HEAD_SQL)
        head = cursor.fetchone()
    return (head[0] + 1, head[1]) if head else (1, GENESIS_DIGEST)


@dataclass(frozen=True)
class ChainReport:
    records: int
    problem: str = ""

    @property
    def is_intact(self) -> bool:
        return not self.problem


def verify_chain(batch_size: int = VERIFY_BATCH) -> ChainReport:
    """Walk the log in sequence order and report the first broken link, if any."""
    previous_digest = GENESIS_DIGEST
    expected_sequence = 1
    count = 0
    for entry in _in_sequence(batch_size):
        if entry.sequence != expected_sequence:
            return ChainReport(count, _gap_problem(expected_sequence, entry.sequence))
        if entry.digest != digest_of(entry, previous_digest):
            return ChainReport(
                count,
                f"record {entry.sequence} (id {entry.pk}) does not match its digest: "
                "it was edited, or inserted in place of another",
            )
        previous_digest = entry.digest
        expected_sequence += 1
        count += 1
    return ChainReport(count)


def _gap_problem(expected: int, found: int) -> str:
    # `sequence` is unique and walked in order, so a break can only be a gap.
    missing = f"{expected}" if found == expected + 1 else f"{expected}-{found - 1}"
    return f"record {missing} is missing: deleted from the log"


def _in_sequence(batch_size: int) -> Iterator[AuditRecord]:
    after = 0
    while True:
        batch: Sequence[AuditRecord] = list(
            AuditRecord.objects.filter(sequence__gt=after).order_by("sequence")[:batch_size]
        )
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].sequence


# Reading the log ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """Which records to show; empty fields do not filter. Dates are whole UTC days."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    def describe(self) -> str:
        parts = [
            f"{name}={value}"
            for name, value in (
                ("actor", self.actor),
                ("action", self.action),
                ("object_type", self.object_type),
                ("object_id", self.object_id),
                ("since", self.since or ""),
                ("until", self.until or ""),
            )
            if value
        ]
        return " ".join(parts)[:200]


def access_audit_log(agent: Agent, purpose: str, filters: AuditFilters) -> None:
    """Let through only active administrators, and audit the reading of the log itself."""
    if not (agent.is_active and agent.role == Role.ADMIN):
        record(agent, purpose, "audit_log", "", AuditOutcome.DENIED, "not an administrator")
        raise AuditLogForbiddenError("Only administrators may read the audit log.")
    record(agent, purpose, "audit_log", "", AuditOutcome.GRANTED, filters.describe())


def audit_records(filters: AuditFilters) -> QuerySet[AuditRecord]:
    """The matching records, newest first."""
    records = AuditRecord.objects.order_by("-sequence")
    if filters.actor:
        records = records.filter(actor_label__iexact=filters.actor)
    if filters.action:
        records = records.filter(action=filters.action)
    if filters.object_type:
        records = records.filter(object_type=filters.object_type)
    if filters.object_id:
        records = records.filter(object_id=filters.object_id)
    if filters.since:
        records = records.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        records = records.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    return records


def audit_page(
    filters: AuditFilters, *, before: int | None, limit: int
) -> tuple[list[AuditRecord], int | None]:
    """One page of records, newest first, and the `before` of the next page (None: last).

    Keyset on `sequence`, so a page costs the same however deep it is.
    """
    records = audit_records(filters)
    if before is not None:
        records = records.filter(sequence__lt=before)
    fetched = list(records[: limit + 1])
    if len(fetched) <= limit:
        return fetched, None
    return fetched[:limit], fetched[limit - 1].sequence


def export_lines(filters: AuditFilters) -> Iterator[str]:
    """The matching records as JSON Lines, oldest first, read in batches."""
    records = audit_records(filters).order_by("sequence")
    after = 0
    while True:
        batch = list(records.filter(sequence__gt=after)[:EXPORT_BATCH])
        for entry in batch:
            yield json.dumps(as_json(entry), ensure_ascii=False) + "\n"
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1].sequence


def as_json(entry: AuditRecord) -> dict[str, str | int | None]:
    return {
        "sequence": entry.sequence,
        "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "digest": entry.digest,
    }


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
