from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kiwidesk.accounts.models import Agent
from kiwidesk.privacy.audit import verify_chain
from kiwidesk.privacy.models import AuditRecord

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_CHAIN = [("privacy", "0001_initial")]


def latest() -> list[tuple[str, str]]:
    """Every app's newest migration: the tests after this one need the whole schema back."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_records_written_before_the_chain_are_chained_oldest_first(agent: Agent):
    old_state = migrate(BEFORE_THE_CHAIN).loader.project_state(BEFORE_THE_CHAIN)
    old_records = old_state.apps.get_model("privacy", "AuditRecord")
    for hour, case_id in ((11, "2"), (9, "1")):
        old_records.objects.create(
            actor_id=agent.pk,
            action="case.view",
            object_type="case",
            object_id=case_id,
            outcome="granted",
            created_at=datetime(2026, 11, 20, hour, tzinfo=UTC),
        )

    migrate(latest())

    chained = AuditRecord.objects.order_by("sequence").values_list(
        "sequence", "object_id", "actor_label"
    )
    assert list(chained) == [(1, "1", "agent@kiwidesk.test"), (2, "2", "agent@kiwidesk.test")]
    assert (verify_chain().records, verify_chain().is_intact) == (2, True)
