"""Rotation: everything sealed under an old key ends up under the new one, and stays readable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Attachment, Call, CallOutcome, Direction, Message
from kiwidesk.cli import main
from kiwidesk.ingest.services import ingest
from kiwidesk.privacy import key_rotation
from kiwidesk.privacy.key_rotation import key_status, reencrypt_step, rotate_keys
from kiwidesk.vault.cipher import parse_keys
from tests.factories.cases import customer_thread, make_case
from tests.ingest import inbound
from tests.vault.keys import ENCRYPTED_STORAGES, KEY_A, KEY_B

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NOTE = "Patient DOB 04/07/1961, NHS 943 476 5919."
LETTER = b"Referral letter for NHS 943 476 5919."
RAW_MAIL = b"From: customer@example.org\r\nSubject: Referral\r\n\r\nNHS 943 476 5919\r\n"


@pytest.fixture(autouse=True)
def _under_key_a(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_A
    settings.STORAGES = ENCRYPTED_STORAGES


@pytest.fixture
def history(agent: Agent) -> list[Message]:
    """Five messages (one with a letter), a call transcript and one row from before encryption."""
    cases = [
        make_case(
            agent,
            message_text=f"{NOTE} ({n})",
            attachments=[NewAttachment("letter.txt", "text/plain", LETTER)],
        )
        for n in range(5)
    ]
    call = services.log_call(
        agent,
        customer_thread(cases[0]),
        details=services.CallDetails(
            direction=Direction.OUTBOUND, outcome=CallOutcome.ANSWERED, party_number="+447700900123"
        ),
    )
    services.attach_transcript(call, text=NOTE)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_message SET full_text = %s WHERE id = %s",
            ["Stored before encryption", cases[1].messages.get().pk],
        )
    ingest(inbound.email(text=f"{NOTE} (mail)", raw=RAW_MAIL))
    return list(Message.objects.order_by("pk"))


def _rotate(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    rotate_keys.enqueue()


def _assert_all_readable() -> None:
    notes = [m.body_text for m in Message.objects.exclude(call__isnull=False).order_by("pk")]
    assert notes == [*(f"{NOTE} ({n})" for n in range(5)), f"{NOTE} (mail)"]
    assert [m.full_text for m in Message.objects.order_by("pk")][1] == "Stored before encryption"
    assert Call.objects.get().transcript == NOTE
    for attachment in Attachment.objects.all():
        with attachment.file.open("rb") as file:
            assert file.read() == LETTER
    with Message.objects.exclude(raw_file="").get().raw_file.open("rb") as file:
        assert file.read() == RAW_MAIL


@pytest.mark.usefixtures("history")
def test_rotation_puts_every_value_and_file_under_the_new_key(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"

    _rotate(settings)

    status = key_status()
    assert status.columns == {
        "cases.call.transcript": {"b": 1},
        "cases.message.body_html": {},
        "cases.message.body_text": {"b": 7},
        "cases.message.full_text": {"b": 1},
    }
    assert status.files == {"b": 2}
    _assert_all_readable()


@pytest.mark.usefixtures("history")
def test_after_rotation_the_old_key_can_go(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    _rotate(settings)

    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_B

    _assert_all_readable()


@pytest.mark.usefixtures("history")
def test_rotation_runs_in_batches_of_the_configured_size(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    monkeypatch.setattr(key_rotation, "BATCH_ROWS", 2)

    _rotate(settings)

    assert key_status().columns["cases.message.body_text"] == {"b": 7}


def test_an_interrupted_rotation_loses_nothing_and_resumes(
    settings: Any, history: list[Message]
) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    step = reencrypt_step("cases.message", 0, size=3)
    # The worker dies here: the next batch was never queued.

    assert step.next == ("cases.message", history[2].pk)
    assert key_status().columns["cases.message.body_text"] == {"a": 4, "b": 3}
    _rotate(settings)
    assert key_status().columns["cases.message.body_text"] == {"b": 7}
    _assert_all_readable()


def test_a_value_edited_during_rotation_keeps_the_edit(
    settings: Any, history: list[Message]
) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    first = history[0]
    stale = (first.pk, _raw_body(first.pk))
    Message.objects.filter(pk=first.pk).update(body_text="Edited meanwhile")

    key_rotation._reseal_texts(_message_table(), (*stale, "", ""))

    assert Message.objects.get(pk=first.pk).body_text == "Edited meanwhile"


def test_keys_status_prints_the_counts_per_key(
    settings: Any, history: list[Message], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "status"])

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "current key: a; configured: a"
    assert "cases.message.body_text: a: 7" in out
    assert "cases.message.full_text: plaintext: 1" in out
    assert out[-1] == "files: a: 2"


@pytest.mark.usefixtures("history")
def test_keys_rotate_queues_the_rotation(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    settings.TASKS = IMMEDIATE

    assert main(["keys", "rotate"]) == 0

    assert "re-encrypts everything under key 'b'" in capsys.readouterr().out
    assert key_status().files == {"b": 2}


def test_keys_generate_prints_a_usable_key_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate", "--id", "k2027"]) == 0

    line = capsys.readouterr().out.strip()
    assert parse_keys(line).current_id == "k2027"


def test_keys_generate_refuses_a_bad_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate", "--id", "bad id"]) == 1

    assert capsys.readouterr().err.startswith("kiwidesk: error: key id 'bad id'")


def test_keys_status_with_broken_keys_is_a_one_line_error(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = "a:tooshort"

    assert main(["keys", "status"]) == 1

    assert capsys.readouterr().err == (
        "kiwidesk: error: encryption key 'a' has 6 bytes; AES-256 needs 32\n"
    )


def _raw_body(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT body_text FROM cases_message WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def _message_table() -> key_rotation.Table:
    return next(t for t in key_rotation.tables() if t.label == "cases.message")


def test_a_file_missing_from_storage_is_reported_and_skipped(
    settings: Any, history: list[Message], caplog: pytest.LogCaptureFixture
) -> None:
    raw = Message.objects.exclude(raw_file="").get()
    Path(default_storage.path(raw.raw_file.name)).unlink()
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"

    _rotate(settings)

    assert f"names a missing file {raw.raw_file.name}" in caplog.text
    assert key_status().files == {"b": 1}
