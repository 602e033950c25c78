"""The IMAP mailboxes Kiwidesk fetches mail from, and how far it has read each one."""

from __future__ import annotations

from django.db import models

from kiwidesk.accounts.models import Team

IMAPS_PORT = 993


class Mailbox(models.Model):
    """One IMAP folder to fetch, and the team its new cases go to.

    The password is never stored: `password_env` names the environment variable that
    holds it. `uidvalidity` and `last_uid` say how far the folder has been read; they
    advance in the same transaction as each stored message.
    """

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=IMAPS_PORT)
    use_ssl = models.BooleanField(default=True, help_text="IMAPS (TLS from the start).")
    username = models.CharField(max_length=255)
    password_env = models.CharField(
        max_length=100,
        help_text="The NAME of the environment variable holding the password, "
        "e.g. KIWIDESK_IMAP_SUPPORT_PASSWORD. Passwords never go in the database.",
    )
    folder = models.CharField(max_length=255, default="INBOX")
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mailboxes",
        help_text="New cases from this mailbox go to this team.",
    )
    is_active = models.BooleanField(default=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        """The ingest source of its mail: the folder itself, so renaming keeps dedupe."""
        return f"imap://{self.username}@{self.host}/{self.folder}"[:255]
