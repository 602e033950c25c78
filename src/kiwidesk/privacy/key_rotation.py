"""Re-encrypt every sealed column and file under the current key, in the background.

`kiwidesk keys rotate` queues `rotate_keys()`. Each run of the task re-seals one batch
of one table (its encrypted text and binary columns and the files its rows name), commits, and
queues the run for the next batch: the queue holds the position, so a worker that
dies mid-way loses at most the batch it was on, whose rows are simply re-sealed by the
next run. Rows already under the current key are skipped, so running it again after
an interruption is cheap, and it also seals rows written before encryption was on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, FileField, Model
from django_tasks import task

from kiwidesk.vault.cipher import FILE_MAGIC, TEXT_PREFIX, file_key_id, text_key_id
from kiwidesk.vault.fields import (
    EncryptedBinaryField,
    EncryptedTextField,
    seal,
    seal_bytes,
    unseal,
    unseal_bytes,
)
from kiwidesk.vault.keys import keyring
from kiwidesk.vault.storage import EncryptedFileSystemStorage

logger = logging.getLogger(__name__)

BATCH_ROWS = 500
PLAINTEXT = "plaintext"


@dataclass(frozen=True)
class Table:
    """A model with sealed columns, or files in an encrypting storage, or both."""

    model: type[Model]
    texts: tuple[EncryptedTextField, ...]
    files: tuple[FileField, ...]
    binaries: tuple[EncryptedBinaryField, ...] = ()

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def name(self) -> str:
        return str(self.model._meta.db_table)

    @property
    def connection(self) -> BaseDatabaseWrapper:
        # Webhook bodies live in the queue database on SQLite (kiwidesk.dbrouter).
        return connections[router.db_for_write(self.model)]


@dataclass(frozen=True)
class Step:
    """What one batch did, and where the next one starts (None when all is done)."""

    table: str
    last_pk: int
    values: int
    files: int
    next: tuple[str, int] | None


@dataclass
class KeyStatus:
    """How many stored values and files each key id seals, per column and for files."""

    columns: dict[str, dict[str, int]] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    # The binary columns (raw originals), apart so the text columns' report keeps its shape.
    binary_columns: dict[str, dict[str, int]] = field(default_factory=dict)


def tables() -> list[Table]:
    """Every model holding sealed text, sealed bytes or encrypted files, in a fixed order."""
    found = []
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label_lower):
        fields = model._meta.concrete_fields
        texts = tuple(f for f in fields if isinstance(f, EncryptedTextField))
        binaries = tuple(f for f in fields if isinstance(f, EncryptedBinaryField))
        files = tuple(
            f
            for f in fields
            if isinstance(f, FileField) and isinstance(f.storage, EncryptedFileSystemStorage)
        )
        if texts or files or binaries:
            found.append(Table(model, texts, files, binaries))
    return found


def reencrypt_step(label: str = "", after_pk: int = 0, *, size: int = BATCH_ROWS) -> Step:
    """Re-seal the batch of `label`'s rows after `after_pk` ("" starts at the first table)."""
    order = tables()
    position = next((i for i, t in enumerate(order) if t.label == label), 0)
    table = order[position]
    # One transaction per batch: a batch is re-sealed whole or not at all.
    with transaction.atomic(using=table.connection.alias):
        rows = _rows(table, after_pk, size)
        values = sum(_reseal_texts(table, row) + _reseal_binaries(table, row) for row in rows)
    files = sum(_reseal_files(table, row) for row in rows)
    last_pk = rows[-1][0] if rows else after_pk
    following: tuple[str, int] | None
    if len(rows) == size:
        following = (table.label, last_pk)
    elif position + 1 < len(order):
        following = (order[position + 1].label, 0)
    else:
        following = None
    return Step(table.label, last_pk, values, files, following)


def _rows(table: Table, after_pk: int, size: int) -> list[tuple[Any, ...]]:
    # The stored (sealed) values, not what the model would give back decrypted.
    quote = table.connection.ops.quote_name
    pk = quote(str(table.model._meta.pk.column))
    sealed: tuple[Field[Any, Any], ...] = (*table.texts, *table.binaries, *table.files)
    columns = ", ".join(quote(str(f.column)) for f in sealed)
    statement = (
        f"SELECT {pk}, {columns} FROM {quote(table.name)} "  # noqa: S608 - names from our models
        f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s"
    )
    with table.connection.cursor() as cursor:
        cursor.execute(statement, [after_pk, size])
        return list(cursor.fetchall())


def _reseal_texts(table: Table, row: tuple[Any, ...]) -> int:
    current = keyring().current_id
    resealed = 0
    quote = table.connection.ops.quote_name
    pk = quote(str(table.model._meta.pk.column))
    for text_field, stored in zip(table.texts, row[1:], strict=False):
        if not stored or text_key_id(stored) == current:
            continue
        fresh = seal(unseal(stored, text_field.vault_context), text_field.vault_context)
        column = quote(str(text_field.column))
        # Only if the value is still the one read: an edit committed meanwhile was
        # sealed under the current key already and must not be overwritten.
        statement = (
            f"UPDATE {quote(table.name)} SET {column} = %s WHERE {pk} = %s AND {column} = %s"  # noqa: S608
        )
        with table.connection.cursor() as cursor:
            cursor.execute(statement, [fresh, row[0], stored])
        resealed += 1
    return resealed


def _reseal_binaries(table: Table, row: tuple[Any, ...]) -> int:
    current = keyring().current_id
    resealed = 0
    quote = table.connection.ops.quote_name
    pk = quote(str(table.model._meta.pk.column))
    start = 1 + len(table.texts)
    for binary_field, value in zip(table.binaries, row[start:], strict=False):
        # PostgreSQL hands bytea over as a memoryview, SQLite as bytes.
        stored = bytes(value) if value is not None else b""
        if not stored or file_key_id(stored) == current:
            continue
        context = binary_field.vault_context
        fresh = seal_bytes(unseal_bytes(stored, context), context)
        column = quote(str(binary_field.column))
        # As for text: a row rewritten meanwhile is under the current key already.
        statement = (
            f"UPDATE {quote(table.name)} SET {column} = %s WHERE {pk} = %s AND {column} = %s"  # noqa: S608
        )
        with table.connection.cursor() as cursor:
            cursor.execute(statement, [fresh, row[0], stored])
        resealed += 1
    return resealed


def _reseal_files(table: Table, row: tuple[Any, ...]) -> int:
    names = row[1 + len(table.texts) + len(table.binaries) :]
    resealed = 0
    for file_field, name in zip(table.files, names, strict=True):
        storage = file_field.storage
        if not name or not isinstance(storage, EncryptedFileSystemStorage):
            continue
        if not storage.exists(name):
            logger.warning(
                "key rotation: %s row %s names a missing file %s", table.label, row[0], name
            )
            continue
        resealed += storage.reseal(name)
    return resealed


@task()
def rotate_keys(label: str = "", after_pk: int = 0) -> str:
    """Re-seal one batch under the current key, then queue the next batch."""
    step = reencrypt_step(label, after_pk, size=BATCH_ROWS)
    logger.info(
        "key rotation: %s up to id %s, %s values and %s files re-sealed",
        step.table, step.last_pk, step.values, step.files,
    )  # fmt: skip
    if step.next is not None:
        rotate_keys.enqueue(*step.next)
    return f"{step.table} up to {step.last_pk}"


def key_status() -> KeyStatus:
    """Count stored values and files by the key id that seals them ("plaintext": none)."""
    status = KeyStatus()
    for table in tables():
        for text_field in table.texts:
            status.columns[f"{table.label}.{text_field.name}"] = _column_counts(table, text_field)
        for binary_field in table.binaries:
            status.binary_columns[f"{table.label}.{binary_field.name}"] = _binary_counts(
                table, binary_field
            )
        for key_id in _file_key_ids(table):
            status.files[key_id] = status.files.get(key_id, 0) + 1
    return status


def _column_counts(table: Table, text_field: EncryptedTextField) -> dict[str, int]:
    quote = table.connection.ops.quote_name
    column = quote(str(text_field.column))
    find = "instr" if table.connection.vendor == "sqlite" else "strpos"
    start = len(TEXT_PREFIX) + 1
    key = (
        f"CASE WHEN substr({column}, 1, {len(TEXT_PREFIX)}) = %s "
        f"THEN substr({column}, {start}, {find}(substr({column}, {start}), ':') - 1) "
        f"ELSE %s END"
    )
    statement = (
        f"SELECT {key} AS key_id, COUNT(*) FROM {quote(table.name)} "  # noqa: S608
        f"WHERE {column} IS NOT NULL AND {column} <> '' GROUP BY key_id ORDER BY key_id"
    )
    with table.connection.cursor() as cursor:
        cursor.execute(statement, [TEXT_PREFIX, PLAINTEXT])
        return {str(key_id): count for key_id, count in cursor.fetchall()}


def _binary_counts(table: Table, binary_field: EncryptedBinaryField) -> dict[str, int]:
    # The key id's length is a byte inside the header, which SQL cannot read portably:
    # fetch only each value's header and read it here.
    quote = table.connection.ops.quote_name
    column = quote(str(binary_field.column))
    head = len(FILE_MAGIC) + 1 + 32  # the magic, the id length, the longest id
    statement = (
        f"SELECT substr({column}, 1, {head}) FROM {quote(table.name)} "  # noqa: S608
        f"WHERE {column} IS NOT NULL AND length({column}) > 0"
    )
    counts: dict[str, int] = {}
    with table.connection.cursor() as cursor:
        cursor.execute(statement)
        for (value,) in cursor.fetchall():
            key_id = file_key_id(bytes(value)) or PLAINTEXT
            counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def _file_key_ids(table: Table) -> Iterator[str]:
    for file_field in table.files:
        storage = file_field.storage
        assert isinstance(storage, EncryptedFileSystemStorage)  # noqa: S101 - tables() chose it
        names = (
            table.model._default_manager.exclude(**{file_field.name: ""})
            .order_by()
            .values_list(file_field.name, flat=True)
            .distinct()
        )
        for name in names.iterator():
            if storage.exists(name):
                yield storage.stored_key_id(name) or PLAINTEXT
