"""Search every table of every database, and every stored file, for given values.

Two readings of each table: through the ORM (so a column encrypted at rest is read
decrypted) and as raw SQL rows (so nothing the models do not map is missed). Files
are read through `default_storage`, walking MEDIA_ROOT's tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections, models, router


def places_holding(values: Sequence[str]) -> list[str]:
    """Where any value is still found, as "where: value" lines (empty: nowhere)."""
    needles = [value.lower() for value in values]
    found: list[str] = []
    for where, text in _everything():
        lowered = text.lower()
        found.extend(f"{where}: {needle}" for needle in needles if needle in lowered)
    return found


def _everything() -> Iterator[tuple[str, str]]:
    yield from _orm_columns()
    yield from _raw_rows()
    yield from _stored_files()


def _orm_columns() -> Iterator[tuple[str, str]]:
    textual = (
        models.CharField,
        models.TextField,
        models.JSONField,
        models.BinaryField,
        models.FileField,
    )
    for model in apps.get_models(include_auto_created=True):
        columns = [f for f in model._meta.concrete_fields if isinstance(f, textual)]
        if not columns:
            continue
        alias = router.db_for_read(model) or "default"
        for row in model._default_manager.using(alias).all().iterator():
            for column in columns:
                yield (
                    f"{model._meta.label}.{column.name}#{row.pk}",
                    _text(getattr(row, column.attname)),
                )


def _raw_rows() -> Iterator[tuple[str, str]]:
    for alias in settings.DATABASES:
        connection = connections[alias]
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
                for number, row in enumerate(cursor.fetchall()):
                    yield f"{alias}:{table} row {number}", " | ".join(_text(v) for v in row)


def _stored_files(folder: str = "") -> Iterator[tuple[str, str]]:
    if folder == "" and not default_storage.exists(""):
        return
    directories, files = default_storage.listdir(folder)
    for name in files:
        path = f"{folder}/{name}" if folder else name
        with default_storage.open(path, "rb") as stored:
            yield f"file {path}", _text(stored.read())
    for directory in directories:
        yield from _stored_files(f"{folder}/{directory}" if folder else directory)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace") + value.decode("latin-1")
    return str(value)
