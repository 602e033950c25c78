"""Queue a recompute of a case's clocks when an event is written on it.

cases/ must not know about SLA, so this listens to the Event table instead of being
called by the case services. The receiver only queues work for after the commit:
the domain flow stays in services, the clocks are a derived cache (STYLE.md §2).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import connections, transaction

from kiwidesk.cases.models import Event
from kiwidesk.contacts.models import Organisation

logger = logging.getLogger(__name__)

# Per connection: the scope (on-commit list, first savepoint) of the queued case ids.
_QUEUED = "sla_queued_cases"


def queue_recompute(
    sender: type[Event], instance: Event, created: bool, raw: bool, using: str, **kwargs: Any
) -> None:
    """Queue `recompute_case` once per case per transaction, to run after it commits.

    A transaction writes several events on a case (a reply: the message, a status
    change); one recompute after the commit sees them all. The set of queued cases
    belongs to the connection's current list of on-commit callbacks and to the first
    savepoint: Django replaces that list when the transaction commits or a (savepoint)
    rollback discards callbacks, so a new transaction, or one whose callbacks were
    thrown away, queues again. The first savepoint is what tells two services apart
    inside one outer transaction that never commits (pytest-django's test transaction).
    """
    if raw or not created:
        return
    connection = connections[using]
    if not connection.in_atomic_block:
        transaction.on_commit(partial(_enqueue, instance.case_id), using=using, robust=True)
        return
    scope = (connection.run_on_commit, connection.savepoint_ids[:1])
    empty: set[int] = set()
    queued_scope, queued = getattr(connection, _QUEUED, ((None, None), empty))
    if queued_scope[0] is not scope[0] or queued_scope[1] != scope[1]:
        queued = set()
        setattr(connection, _QUEUED, (scope, queued))
    if instance.case_id in queued:
        return
    queued.add(instance.case_id)
    # robust: the event is already committed when this runs; a queue that is down must
    # not fail the case's change. `kiwidesk sla recompute` rebuilds what was missed.
    transaction.on_commit(partial(_enqueue, instance.case_id), using=using, robust=True)


def _enqueue(case_id: int) -> None:
    # Imported here: the task module imports the services, which need the app registry.
    from kiwidesk.sla.tasks import recompute_case

    recompute_case.enqueue(case_id)


def remember_tier(sender: type[Organisation], instance: Organisation, **kwargs: Any) -> None:
    """Keep the tier an organisation had before this save (a tier change writes no Event)."""
    if instance.pk is None or kwargs.get("raw"):
        return
    previous = Organisation.objects.filter(pk=instance.pk).values_list("tier", flat=True)
    instance._sla_previous_tier = previous.first()  # type: ignore[attr-defined]


def queue_tier_recompute(
    sender: type[Organisation], instance: Organisation, created: bool, using: str, **kwargs: Any
) -> None:
    """Queue a recompute of the organisation's open cases when its tier changed.

    Policies may match on tier, and no Event records the change, so this is the one
    change of a case's targets that the Event receiver cannot see.
    """
    previous = getattr(instance, "_sla_previous_tier", None)
    if created or previous is None or previous == instance.tier:
        return
    transaction.on_commit(partial(_enqueue_organisation, instance.pk), using=using, robust=True)


def _enqueue_organisation(organisation_id: int) -> None:
    from kiwidesk.sla.tasks import recompute_organisation

    recompute_organisation.enqueue(organisation_id)
