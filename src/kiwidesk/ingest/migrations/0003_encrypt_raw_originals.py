from django.db import migrations

import kiwidesk.vault.fields


class Migration(migrations.Migration):
    """Webhook bodies and quarantined originals are sealed by the vault from now on.

    The columns stay binary, so only the state changes: altering them would copy the
    quarantine table on SQLite. Rows already stored are read as plaintext until
    `kiwidesk keys rotate` seals them.
    """

    dependencies = [
        ("ingest", "0002_delivery"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="raw",
                    field=kiwidesk.vault.fields.EncryptedBinaryField(),
                ),
                migrations.AlterField(
                    model_name="quarantinedmessage",
                    name="raw",
                    field=kiwidesk.vault.fields.EncryptedBinaryField(),
                ),
            ],
        ),
    ]
