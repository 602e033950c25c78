from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from kiwidesk.cases.models import Message
from kiwidesk.ingest.services import IngestResult, ingest
from tests.ingest import inbound

# SQLite serialises writers (BEGIN IMMEDIATE), so the race only exists on PostgreSQL.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers"),
]


def test_two_simultaneous_deliveries_of_one_mail_store_it_once() -> None:
    start = threading.Barrier(2)

    def deliver() -> IngestResult:
        try:
            start.wait()
            return ingest(inbound.email())
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: deliver(), range(2)))

    assert sorted(r.duplicate for r in results) == [False, True]
    assert results[0].message.pk == results[1].message.pk
    assert Message.objects.count() == 1
