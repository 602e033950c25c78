"""Refuse UPDATE and DELETE on the audit log in the database itself.

PostgreSQL refuses both. SQLite refuses UPDATE only: Django empties SQLite tables with
row-by-row DELETE (the test suite's flush), which a DELETE trigger would block; a
deleted record is still caught by `kiwidesk audit verify` as a gap in the sequence.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

_POSTGRES_UP = [
    """
CREATE OR REPLACE FUNCTION privacy_auditrecord_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER privacy_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON privacy_auditrecord
    FOR EACH ROW EXECUTE FUNCTION privacy_auditrecord_refuse()
""",
]
_POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS privacy_auditrecord_append_only ON privacy_auditrecord",
    "DROP FUNCTION IF EXISTS privacy_auditrecord_refuse()",
]
_SQLITE_UP = [
    """
CREATE TRIGGER privacy_auditrecord_no_update BEFORE UPDATE ON privacy_auditrecord
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (UPDATE refused)');
END
""",
]
_SQLITE_DOWN = ["DROP TRIGGER IF EXISTS privacy_auditrecord_no_update"]


def add_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, _POSTGRES_UP, _SQLITE_UP)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, _POSTGRES_DOWN, _SQLITE_DOWN)


def _run(
    schema_editor: BaseDatabaseSchemaEditor, postgres_sql: list[str], sqlite_sql: list[str]
) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": postgres_sql, "sqlite": sqlite_sql}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_chain_existing_records")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
