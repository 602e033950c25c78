"""Keep the work queue (task rows and accepted webhook bodies) in its own SQLite file.

SQLite has one writer per file. A webhook's whole cost is one insert into the
queue, but while the worker ingests a message it holds the main file's write lock
for tens of milliseconds, and SQLite's busy handler makes a waiting writer sleep in
growing steps: webhook answers got a long tail. With the queue in a second file,
webhooks wait only on the worker's short claim and finish writes.

PostgreSQL has row locks, so there the `queue` alias is not configured and every
model stays in the one database.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

QUEUE = "queue"
# (app label, model name or None for the whole app) of what lives in the queue file.
_QUEUE_MODELS = {("django_tasks_database", None), ("ingest", "delivery")}


def _in_queue(app_label: str, model_name: str | None) -> bool:
    return (app_label, None) in _QUEUE_MODELS or (app_label, model_name) in _QUEUE_MODELS


class QueueRouter:
    """Route the queue's models to the `queue` alias when settings define it."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return self._alias(model)

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return self._alias(model)

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if QUEUE not in settings.DATABASES:
            return None
        return (db == QUEUE) == _in_queue(app_label, model_name)

    def _alias(self, model: type[Any]) -> str | None:
        if QUEUE in settings.DATABASES and _in_queue(model._meta.app_label, model._meta.model_name):
            return QUEUE
        return None
