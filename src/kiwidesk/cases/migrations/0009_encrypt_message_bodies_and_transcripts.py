from django.db import migrations

import kiwidesk.vault.fields


class Migration(migrations.Migration):
    """Message bodies and call transcripts are sealed by the vault from now on.

    The columns stay text, so only the state changes: altering them would copy the
    whole message table on SQLite, once per column. Rows already stored are read as
    plaintext until `kiwidesk keys rotate` seals them.
    """

    dependencies = [
        ("cases", "0008_message_sensitivity_pii"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="call",
                    name="transcript",
                    field=kiwidesk.vault.fields.EncryptedTextField(blank=True),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="body_html",
                    field=kiwidesk.vault.fields.EncryptedTextField(
                        blank=True, help_text="Sanitised with nh3 before it is stored."
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="body_text",
                    field=kiwidesk.vault.fields.EncryptedTextField(blank=True),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="full_text",
                    field=kiwidesk.vault.fields.EncryptedTextField(
                        blank=True,
                        help_text="The whole text with quotes and signature, when it differs.",
                    ),
                ),
            ],
        ),
    ]
