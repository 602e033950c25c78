"""Every message of the shared mail corpora parses, or is refused in the one expected way."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from kiwidesk.channels.email.adapter import UnparseableMessageError, parse
from kiwidesk.channels.email.importer import import_mailbox
from kiwidesk.channels.email.mailboxes import open_mailbox
from kiwidesk.ingest.models import QuarantinedMessage, Receipt
from tests.channels.email.mail import DATASETS, SOURCE, corpus_files
from tests.conftest import require_service

# 425 files in seven corpora: 382 become messages, 43 have no usable sender or no bytes.
CORPUS_FILES = 425
PARSED = 382
UNPARSEABLE = 43


@pytest.fixture
def corpus() -> list[Path]:
    require_service(DATASETS.is_dir(), f"the mail corpora are not at {DATASETS}")
    return corpus_files()


def _outcome(raw: bytes) -> str:
    try:
        parse(raw, SOURCE)
    except UnparseableMessageError:
        return "unparseable"
    return "parsed"


def _kept_identically(source: str, raw: bytes) -> str:
    """Where the bytes of one imported file ended, if they were kept exactly."""
    receipt = Receipt.objects.filter(source=source).select_related("message").first()
    quarantined = QuarantinedMessage.objects.filter(source=source).first()
    if receipt is not None and _stored_bytes(receipt) == raw:
        return "stored"
    if quarantined is not None and bytes(quarantined.raw) == raw:
        return "quarantined"
    return "lost"


def _stored_bytes(receipt: Receipt) -> bytes:
    with receipt.message.raw_file.open("rb") as stored:
        return stored.read()


def test_every_corpus_message_parses_or_is_unparseable(corpus: list[Path]) -> None:
    outcomes = Counter(_outcome(path.read_bytes()) for path in corpus)

    assert len(corpus) == CORPUS_FILES
    assert outcomes == {"parsed": PARSED, "unparseable": UNPARSEABLE}


def test_the_largest_corpus_messages_parse_quickly(corpus: list[Path]) -> None:
    largest = sorted(corpus, key=lambda path: path.stat().st_size)[-3:]
    started = time.perf_counter()

    outcomes = [_outcome(path.read_bytes()) for path in largest]

    assert outcomes == ["parsed", "parsed", "parsed"]
    assert time.perf_counter() - started < 5


def test_every_corpus_message_is_stored_or_quarantined_with_its_bytes(
    db: None, corpus: list[Path], tmp_path: Path
) -> None:
    # One source per file: the corpora reuse Message-IDs, which within one mailbox
    # would rightly be duplicates, and each file's own fate is what is checked here.
    for number, path in enumerate(corpus):
        eml = tmp_path / f"{number}.eml"
        eml.write_bytes(path.read_bytes())
        import_mailbox(open_mailbox(eml), source=f"corpus:{number}")

    fates = Counter(
        _kept_identically(f"corpus:{number}", path.read_bytes())
        for number, path in enumerate(corpus)
    )

    assert fates == {"stored": PARSED, "quarantined": UNPARSEABLE}
