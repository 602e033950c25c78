"""Test help for the work queue, which on SQLite is a database of its own."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.db import router
from django.test import TestCase

from kiwidesk.ingest.models import Delivery


def queue_commits(*, execute: bool) -> AbstractContextManager[list[Any]]:
    """Capture the on-commit callbacks of the queue's database (webhook accepts queue there)."""
    return TestCase.captureOnCommitCallbacks(using=router.db_for_write(Delivery), execute=execute)
