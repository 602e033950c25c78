"""Chain the records written before the log was chained, oldest first."""

from __future__ import annotations

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from kiwidesk.privacy.audit import GENESIS_DIGEST, canonical, chain_digest


def chain_existing(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    AuditRecord = apps.get_model("privacy", "AuditRecord")
    Agent = apps.get_model("accounts", "Agent")
    emails = dict(Agent.objects.values_list("pk", "email"))
    previous = GENESIS_DIGEST
    for sequence, entry in enumerate(AuditRecord.objects.order_by("created_at", "id"), start=1):
        entry.sequence = sequence
        entry.actor_label = emails.get(entry.actor_id, "")
        entry.digest = chain_digest(
            previous,
            canonical(
                sequence=sequence,
                actor_id=entry.actor_id,
                actor_label=entry.actor_label,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                outcome=entry.outcome,
                reason=entry.reason,
                created_at=entry.created_at,
            ),
        )
        entry.save(update_fields=["sequence", "actor_label", "digest"])
        previous = entry.digest


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_audit_chain_fields"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditrecord",
            name="sequence",
            field=models.PositiveBigIntegerField(unique=True),
        ),
    ]
