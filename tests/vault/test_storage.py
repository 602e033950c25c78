from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Attachment
from kiwidesk.ingest.prestore import prestore
from kiwidesk.vault.cipher import MissingKeyError
from tests.factories.cases import customer_thread, make_case
from tests.ingest import inbound
from tests.vault.keys import ENCRYPTED_STORAGES, KEY_A, KEY_B

LETTER = b"Referral letter. Patient NHS number 943 476 5919, DOB 04/07/1961."


@pytest.fixture(autouse=True)
def _encrypted_storage(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_A
    settings.STORAGES = ENCRYPTED_STORAGES


def _on_disk(name: str) -> bytes:
    return Path(default_storage.path(name)).read_bytes()


def _letter_case(agent: Agent) -> Attachment:
    case = make_case(agent, attachments=[NewAttachment("referral.txt", "text/plain", LETTER)])
    return customer_thread(case).messages.get().attachments.get()


def test_an_attachment_is_sealed_on_disk_and_keeps_its_plaintext_hash(agent: Agent) -> None:
    attachment = _letter_case(agent)

    on_disk = _on_disk(attachment.file.name)

    assert on_disk.startswith(b"KVF1\x01a")
    assert b"943 476" not in on_disk
    assert attachment.sha256 == hashlib.sha256(LETTER).hexdigest()
    assert attachment.size == len(LETTER)
    assert default_storage.size(attachment.file.name) == len(LETTER)


def test_the_same_file_sent_twice_is_stored_once(agent: Agent) -> None:
    first = _letter_case(agent)

    second = _letter_case(agent)

    assert second.file.name == first.file.name
    assert len(list(Path(default_storage.path(first.file.name)).parent.iterdir())) == 1


def test_an_agent_downloads_the_plaintext(agent: Agent, client: Client) -> None:
    attachment = _letter_case(agent)
    client.force_login(agent)

    response = client.get(f"/cases/{attachment.message.case_id}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == LETTER  # type: ignore[attr-defined]
    assert response["Content-Length"] == str(len(LETTER))


def test_a_file_opened_twice_reads_the_plaintext_both_times(agent: Agent) -> None:
    attachment = _letter_case(agent)

    with attachment.file.open("rb") as first:
        first_read = first.read()
    with attachment.file.open("rb") as second:
        second_read = second.read()

    assert first_read == second_read == LETTER


def test_a_file_stored_before_encryption_is_read_as_it_is() -> None:
    path = Path(default_storage.path("attachments/old/plain.txt"))
    path.parent.mkdir(parents=True)
    path.write_bytes(LETTER)

    with default_storage.open("attachments/old/plain.txt") as file:
        assert file.read() == LETTER
    assert default_storage.size("attachments/old/plain.txt") == len(LETTER)


def test_writing_through_open_is_refused() -> None:
    default_storage.save("attachments/x/letter.txt", ContentFile(LETTER))

    with pytest.raises(ValueError, match="written with save"):
        default_storage.open("attachments/x/letter.txt", "wb")


def test_a_file_under_a_key_no_longer_configured_names_the_key(settings: Any) -> None:
    name = default_storage.save("attachments/x/letter.txt", ContentFile(LETTER))
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_B

    with pytest.raises(MissingKeyError, match="'a'"):
        default_storage.open(name).read()


def test_files_written_ahead_by_import_workers_are_sealed_too() -> None:
    message = inbound.email(
        raw=b"From: customer@example.org\r\n\r\n" + LETTER,
        attachments=(NewAttachment("referral.txt", "text/plain", LETTER),),
    )

    prestore(message)

    name = (
        f"attachments/{hashlib.sha256(LETTER).hexdigest()[:2]}/{hashlib.sha256(LETTER).hexdigest()}"
    )
    assert _on_disk(name).startswith(b"KVF1")
    with default_storage.open(name) as file:
        assert file.read() == LETTER


def test_reopening_a_file_still_open_starts_from_the_beginning() -> None:
    name = default_storage.save("attachments/x/letter.txt", ContentFile(LETTER))
    file = default_storage.open(name)
    file.read(10)

    file.open("rb")

    assert file.read() == LETTER
