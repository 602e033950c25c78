"""Every change made in Django's admin goes into the audit chain too.

The admin writes a LogEntry for each addition, change and deletion; this copies it into
the hash-chained log, so an administrative change cannot be made where the audit log
does not see it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save

from kiwidesk.accounts.models import Agent
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome

_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


def record_admin_change(
    sender: type[LogEntry], instance: LogEntry, created: bool, **_: Any
) -> None:
    if not created:
        return
    actor = Agent.objects.filter(pk=instance.user_id).first()
    content_type = instance.content_type
    kind = content_type.model if content_type is not None else "object"
    audit.record(
        actor,
        _ACTIONS.get(instance.action_flag, "admin.change"),
        kind,
        instance.object_id or "",
        AuditOutcome.GRANTED,
        # The admin's own summary names fields ("Changed priority."), never values.
        instance.get_change_message()[:200],
    )


def connect() -> None:
    post_save.connect(record_admin_change, sender=LogEntry, dispatch_uid="privacy.admin_changes")
