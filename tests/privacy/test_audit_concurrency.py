from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from kiwidesk.accounts.models import Agent
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome, AuditRecord

# SQLite serialises writers (BEGIN IMMEDIATE), so the race only exists on PostgreSQL.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers"),
]

WRITERS = 4
RECORDS_EACH = 25


def test_simultaneous_writers_never_fork_the_chain(agent: Agent) -> None:
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        try:
            start.wait()
            for case_id in range(RECORDS_EACH):
                audit.record(agent, "case.view", "case", case_id, AuditOutcome.GRANTED)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    report = audit.verify_chain()
    assert (report.records, report.is_intact) == (WRITERS * RECORDS_EACH, True)
    assert list(
        AuditRecord.objects.order_by("sequence").values_list("sequence", flat=True)
    ) == list(range(1, WRITERS * RECORDS_EACH + 1))
