from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage

from kiwidesk.cases.models import Attachment, Message
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.prestore import attachment_name, prestore
from kiwidesk.ingest.services import ingest, raw_name
from tests.ingest import inbound
from tests.ingest.batch_corpus import EXE, PDF

RAW = b"From: customer@example.org\r\n\r\nThe screen froze.\r\n"


def _mail() -> InboundMessage:
    return inbound.email(raw=RAW, attachments=(PDF, EXE))


def test_files_written_ahead_are_the_ones_ingest_keeps(db: None) -> None:
    prestore(_mail())

    stored = ingest(_mail()).message

    assert (stored.raw_file.name, default_storage.open(raw_name(RAW)).read()) == (
        raw_name(RAW), RAW,
    )  # fmt: skip
    assert list(Attachment.objects.values_list("file", flat=True)) == [attachment_name(PDF.content)]


def test_refused_attachments_are_not_written_ahead(db: None) -> None:
    prestore(_mail())

    assert default_storage.exists(attachment_name(EXE.content)) is False


def test_writing_ahead_twice_keeps_one_file_and_no_partial_one(db: None) -> None:
    prestore(_mail())
    prestore(_mail())

    folder = Path(default_storage.path(raw_name(RAW))).parent
    assert [path.name for path in folder.iterdir()] == [Path(raw_name(RAW)).name]


def test_a_storage_that_is_not_a_folder_is_left_to_ingest(db: None, settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    prestore(_mail())
    written_ahead = default_storage.exists(raw_name(RAW))

    ingest(_mail())

    assert (written_ahead, default_storage.exists(raw_name(RAW))) == (False, True)
    assert Message.objects.get().raw_file.name == raw_name(RAW)
