"""Rotation re-seals the raw originals ingest keeps: webhook bodies and quarantined mail."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections, router
from django.db.models import Model

from kiwidesk.ingest import deliveries
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from kiwidesk.ingest.services import quarantine
from kiwidesk.privacy import key_rotation
from kiwidesk.privacy.key_rotation import key_status, rotate_keys
from tests.ingest import inbound
from tests.vault.keys import KEY_A, KEY_B

pytestmark = pytest.mark.django_db(databases="__all__")

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
BODIES = [f"From=%2B447700900123&Body=NHS+943+476+5919+({n})".encode() for n in range(3)]
BROKEN = b"From: customer@example.org\r\nSubject: \xff NHS 943 476 5919\r\n\r\n\x00body\r\n"
LEGACY = b"From=%2B447700900123&Body=kept+before+encryption"


@pytest.fixture(autouse=True)
def _under_key_a(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_A


def _store(row: Model, value: bytes) -> None:
    with connections[router.db_for_write(type(row))].cursor() as cursor:
        cursor.execute(f"UPDATE {row._meta.db_table} SET raw = %s WHERE id = %s", [value, row.pk])  # noqa: S608


@pytest.fixture
def originals() -> None:
    """Three webhook bodies (one kept before encryption) and one quarantined mail."""
    kept = [
        deliveries.accept(body, adapter="test", channel="sms", source="twilio:+15005550006")
        for body in BODIES
    ]
    _store(kept[0], LEGACY)
    quarantine(BROKEN, channel="email", source=inbound.MAILBOX, reason="unparseable")


def _rotate(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    rotate_keys.enqueue()


def _assert_all_readable() -> None:
    assert list(Delivery.objects.order_by("pk").values_list("raw", flat=True)) == [
        LEGACY,
        *BODIES[1:],
    ]
    assert QuarantinedMessage.objects.get().raw == BROKEN


@pytest.mark.usefixtures("originals")
def test_keys_status_counts_the_originals_per_key() -> None:
    assert key_status().binary_columns == {
        "ingest.delivery.raw": {"a": 2, "plaintext": 1},
        "ingest.quarantinedmessage.raw": {"a": 1},
    }


@pytest.mark.usefixtures("originals")
def test_rotation_puts_every_original_under_the_new_key(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"

    _rotate(settings)

    assert key_status().binary_columns == {
        "ingest.delivery.raw": {"b": 3},
        "ingest.quarantinedmessage.raw": {"b": 1},
    }
    _assert_all_readable()


@pytest.mark.usefixtures("originals")
def test_after_rotation_the_old_key_can_go(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    _rotate(settings)

    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_B

    _assert_all_readable()


@pytest.mark.usefixtures("originals")
def test_rotation_of_originals_runs_in_batches(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    monkeypatch.setattr(key_rotation, "BATCH_ROWS", 2)

    _rotate(settings)

    assert key_status().binary_columns["ingest.delivery.raw"] == {"b": 3}


def test_a_body_rewritten_during_rotation_keeps_the_new_bytes(settings: Any) -> None:
    delivery = deliveries.accept(BODIES[0], adapter="test", channel="sms", source="twilio:+1")
    table = next(t for t in key_rotation.tables() if t.label == "ingest.delivery")
    with connections[router.db_for_read(Delivery)].cursor() as cursor:
        cursor.execute("SELECT id, raw FROM ingest_delivery WHERE id = %s", [delivery.pk])
        stale = cursor.fetchone()
    settings.KIWIDESK_ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    Delivery.objects.filter(pk=delivery.pk).update(raw=b"rewritten meanwhile")

    key_rotation._reseal_binaries(table, tuple(stale))

    assert Delivery.objects.get(pk=delivery.pk).raw == b"rewritten meanwhile"
