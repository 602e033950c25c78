"""Insert many new rows with one statement each table, for the batch ingest.

Django's bulk_create spends most of a batch's time preparing each value of each row
through the field API (and asking the database router at every foreign key). The
rows ingest writes hold plain values, so they are read straight from the instances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, FileField, ForeignKey, JSONField, Model

from kiwidesk.vault.fields import EncryptedTextField

Convert = Callable[[Any], Any] | None


def insert(model: type[Model], objects: Sequence[Model]) -> None:
    """INSERT new instances of `model`, setting their ids as bulk_create does.

    Ids are taken ahead: on SQLite the next ones after the table's highest (the
    caller's transaction holds SQLite's write lock from its start, with
    transaction_mode IMMEDIATE, so no one else inserts meanwhile; if someone did, the
    primary key would refuse the row and the batch would be replanned), on PostgreSQL
    from the table's sequence (the two databases Kiwidesk runs on). A foreign key to
    an instance inserted earlier is filled in from that instance.
    """
    if not objects:
        return
    for instance, pk in zip(objects, _new_ids(model, len(objects)), strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias
    columns = _columns(model)
    rows = [_row(instance, columns) for instance in objects]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column, _, _, _ in columns)
    marks = ", ".join(["%s"] * len(columns))
    statement = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def insert_values(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """INSERT rows given as {attname: value}; the database picks their ids.

    For rows nobody reads back in the batch (Events): no instance is built. A field
    left out gets its default, evaluated once for all rows.
    """
    if not rows:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    converters = [_converter(field) for field in fields]
    values = [
        tuple(
            value if convert is None or value is None else convert(value)
            for convert, value in zip(
                converters, (row.get(f.attname, defaults[f.attname]) for f in fields), strict=True
            )
        )
        for row in rows
    ]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    statement = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, values)


def _row(
    instance: Model, columns: list[tuple[str, str, Convert, ForeignKey[Any, Any] | None]]
) -> tuple[Any, ...]:
    values = instance.__dict__
    row = []
    for _, attname, convert, foreign_key in columns:
        value = values[attname]
        if value is None and foreign_key is not None:
            related = foreign_key.get_cached_value(instance, None)
            if related is not None:
                value = values[attname] = related.pk
        row.append(value if convert is None or value is None else convert(value))
    return tuple(row)


@cache
def _columns(
    model: type[Model],
) -> list[tuple[str, str, Convert, ForeignKey[Any, Any] | None]]:
    columns = []
    for field in model._meta.concrete_fields:
        foreign_key = field if isinstance(field, ForeignKey) else None
        columns.append((str(field.column), field.attname, _converter(field), foreign_key))
    return columns


def _converter(field: Any) -> Convert:
    if isinstance(field, DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, FileField):
        return str
    if isinstance(field, EncryptedTextField):
        # Sealed here, as Django's save() would: these rows skip the field API.
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _new_ids(model: type[Model], count: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # pragma: no cover - the PostgreSQL run covers it
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), count],
            )
            return [pk for (pk,) in cursor.fetchall()]
        # AUTOINCREMENT never reuses an id, even of a deleted row: start after both.
        cursor.execute(f"SELECT max(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        (highest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        used = cursor.fetchone()
    start = max(highest or 0, used[0] if used else 0) + 1
    return list(range(start, start + count))


def update_each(
    model: type[Model],
    columns: list[str],
    rows: list[tuple[Any, ...]],
    *,
    by: tuple[str, ...] = ("id",),
) -> None:
    """UPDATE the given columns of each row found by the `by` columns (its id, or a
    unique key); each row holds the new values, then the key's."""
    if not rows:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
    where = " AND ".join(f"{quote(column)} = %s" for column in by)
    statement = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)
