from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from kiwidesk.accounts.models import Agent
from kiwidesk.cli import main
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome, AuditRecord

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 23, 9, 30, 0, 250_000, tzinfo=UTC)

# What an attacker with database access runs first: the triggers are gone.
_DROP_TRIGGERS = {
    "sqlite": "DROP TRIGGER privacy_auditrecord_no_update",
    "postgresql": "DROP TRIGGER privacy_auditrecord_append_only ON privacy_auditrecord",
}


def three_records(agent: Agent) -> list[AuditRecord]:
    return [
        audit.record(agent, "case.view", "case", case_id, AuditOutcome.GRANTED, at=AT)
        for case_id in (11, 12, 13)
    ]


def tamper(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_DROP_TRIGGERS[connection.vendor])
        cursor.execute(sql, params)


def test_records_are_numbered_in_the_order_they_are_written(agent: Agent):
    records = three_records(agent)

    assert [record.sequence for record in records] == [1, 2, 3]


def test_the_first_digest_covers_the_documented_canonical_fields(agent: Agent):
    record = audit.record(
        agent, "case.view", "case", 42, AuditOutcome.DENIED, "needs clearance", AT
    )

    canonical = (
        f'["1","{agent.pk}","agent@kiwidesk.test","case.view","case","42","denied",'
        '"needs clearance","2026-11-23T09:30:00.250000+00:00"]'
    )
    assert record.digest == hashlib.sha256(f"{'0' * 64}\n{canonical}".encode()).hexdigest()


def test_each_digest_chains_the_previous_one(agent: Agent):
    first, second, _ = three_records(agent)

    canonical = (
        f'["2","{agent.pk}","agent@kiwidesk.test","case.view","case","12","granted",'
        '"","2026-11-23T09:30:00.250000+00:00"]'
    )
    assert second.digest == hashlib.sha256(f"{first.digest}\n{canonical}".encode()).hexdigest()


def test_a_record_is_stored_with_the_digest_it_was_given(agent: Agent):
    written = audit.record(agent, "case.view", "case", 7, AuditOutcome.GRANTED)

    assert AuditRecord.objects.get().digest == written.digest


def test_editing_a_record_through_the_orm_is_refused(agent: Agent):
    three_records(agent)

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(sequence=2).update(reason="nothing to see")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite has no DELETE trigger")
def test_deleting_a_record_through_the_orm_is_refused(agent: Agent):
    three_records(agent)

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(sequence=2).delete()


def test_deleting_an_agent_keeps_their_records_and_who_they_were(agent: Agent):
    three_records(agent)

    agent.delete()

    assert (
        list(AuditRecord.objects.order_by("sequence").values_list("actor_label", flat=True))
        == ["agent@kiwidesk.test"] * 3
    )


def test_verify_reports_an_intact_chain(agent: Agent, capsys: pytest.CaptureFixture[str]):
    three_records(agent)

    status = main(["audit", "verify"])

    assert (status, capsys.readouterr().out) == (0, "3 records, chain intact\n")


def test_verify_of_an_empty_log_is_intact(db: None, capsys: pytest.CaptureFixture[str]):
    status = main(["audit", "verify"])

    assert (status, capsys.readouterr().out) == (0, "0 records, chain intact\n")


def test_verify_detects_an_edited_record(agent: Agent, capsys: pytest.CaptureFixture[str]):
    records = three_records(agent)
    tamper("UPDATE privacy_auditrecord SET outcome = 'denied' WHERE sequence = 2", [])

    status = main(["audit", "verify"])

    assert (status, capsys.readouterr().err) == (
        1,
        f"Audit log broken after 1 records: record 2 (id {records[1].pk}) does not match its "
        "digest: it was edited, or inserted in place of another\n",
    )


def test_verify_detects_a_deleted_record(agent: Agent, capsys: pytest.CaptureFixture[str]):
    three_records(agent)
    tamper("DELETE FROM privacy_auditrecord WHERE sequence = 2", [])

    status = main(["audit", "verify"])

    assert (status, capsys.readouterr().err) == (
        1,
        "Audit log broken after 1 records: record 2 is missing: deleted from the log\n",
    )


def test_verify_detects_the_newest_records_deleted_from_the_middle(
    agent: Agent, capsys: pytest.CaptureFixture[str]
):
    three_records(agent)
    audit.record(agent, "case.view", "case", 14, AuditOutcome.GRANTED, at=AT)
    tamper("DELETE FROM privacy_auditrecord WHERE sequence IN (2, 3)", [])

    status = main(["audit", "verify"])

    assert (status, capsys.readouterr().err) == (
        1,
        "Audit log broken after 1 records: record 2-3 is missing: deleted from the log\n",
    )


def test_verify_detects_an_inserted_record(agent: Agent, capsys: pytest.CaptureFixture[str]):
    three_records(agent)
    forged = AuditRecord(
        actor=agent,
        actor_label=agent.email,
        action="case.view",
        object_type="case",
        object_id="99",
        outcome="granted",
        created_at=AT,
        sequence=4,
        digest="f" * 64,
    )
    forged.save(force_insert=True)

    status = main(["audit", "verify"])

    assert (status, capsys.readouterr().err) == (
        1,
        f"Audit log broken after 3 records: record 4 (id {forged.pk}) does not match its "
        "digest: it was edited, or inserted in place of another\n",
    )


def test_verify_walks_the_chain_across_batches(agent: Agent):
    three_records(agent)
    audit.record(agent, "case.view", "case", 14, AuditOutcome.GRANTED, at=AT)

    report = audit.verify_chain(batch_size=2)

    assert (report.records, report.is_intact) == (4, True)


def test_verify_across_batches_finds_an_edit_in_a_later_batch(agent: Agent):
    three_records(agent)
    tamper("UPDATE privacy_auditrecord SET object_id = '1' WHERE sequence = 3", [])

    report = audit.verify_chain(batch_size=2)

    assert (report.records, report.is_intact) == (2, False)
