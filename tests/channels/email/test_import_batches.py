"""Real mail imported in batches leaves the rows one-by-one ingest leaves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from kiwidesk.channels.email import importer
from kiwidesk.channels.email.importer import import_mailbox, import_message
from kiwidesk.channels.email.mailboxes import LocalMailbox, open_mailbox
from kiwidesk.ingest.models import QuarantinedMessage
from tests.channels.email.mail import DATASETS, SOURCE, corpus_files
from tests.conftest import require_service
from tests.ingest.batch_corpus import normalised_rows


@pytest.fixture
def corpus_folder(tmp_path: Path) -> Path:
    """Every corpus file as one folder of .eml files, in a fixed order."""
    require_service(DATASETS.is_dir(), f"the mail corpora are not at {DATASETS}")
    for number, path in enumerate(corpus_files()):
        (tmp_path / f"{number:04d}.eml").write_bytes(path.read_bytes())
    return tmp_path


def _one_by_one(box: LocalMailbox) -> None:
    for mail in box:
        import_message(mail.raw, source=SOURCE, team=None, enforce_rate_limit=False)


def _in_batches(box: LocalMailbox) -> None:
    import_mailbox(box, source=SOURCE)


def _rows_after(folder: Path, import_all: Callable[[LocalMailbox], None]) -> dict[str, Any]:
    savepoint = transaction.savepoint()
    import_all(open_mailbox(folder))
    rows: dict[str, Any] = normalised_rows([])
    rows["quarantined"] = list(
        QuarantinedMessage.objects.order_by("pk").values_list("reason", "external_id")
    )
    transaction.savepoint_rollback(savepoint)
    return rows


def test_the_mail_corpora_import_in_batches_as_one_by_one(
    db: None, corpus_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 40)
    expected = _rows_after(corpus_folder, _one_by_one)

    actual = _rows_after(corpus_folder, _in_batches)

    assert actual == expected
    assert (len(expected["receipts"]), len(expected["quarantined"])) == (280, 41)
