"""Raw originals kept by ingest are ciphertext in the database and the exact bytes in Python."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.db import connections, router
from django.db.models import Model
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.ingest import deliveries
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from kiwidesk.ingest.services import quarantine
from kiwidesk.vault.cipher import CorruptCiphertextError, MissingKeyError
from tests.ingest import inbound
from tests.vault.keys import KEY_A, KEY_B

pytestmark = pytest.mark.django_db(databases="__all__")

BODY = b"MessageSid=SM0001&From=%2B447700900123&Body=My+NHS+number+is+943+476+5919"
# Not valid UTF-8, with a NUL: sealing must keep every byte.
BROKEN = b"From: customer@example.org\r\nSubject: \xff\xfe NHS 943 476 5919\r\n\r\n\x00body\r\n"


@pytest.fixture(autouse=True)
def _key_a(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_A


def _stored(row: Model) -> bytes:
    """The bytes in the database, from whichever database holds the row (kiwidesk.dbrouter)."""
    with connections[router.db_for_read(type(row))].cursor() as cursor:
        cursor.execute(f"SELECT raw FROM {row._meta.db_table} WHERE id = %s", [row.pk])  # noqa: S608
        return bytes(cursor.fetchone()[0])


def _store(row: Model, value: bytes) -> None:
    with connections[router.db_for_write(type(row))].cursor() as cursor:
        cursor.execute(f"UPDATE {row._meta.db_table} SET raw = %s WHERE id = %s", [value, row.pk])  # noqa: S608


def _accept() -> Delivery:
    return deliveries.accept(BODY, adapter="test", channel="sms", source="twilio:+15005550006")


def _quarantine() -> QuarantinedMessage:
    return quarantine(BROKEN, channel="email", source=inbound.MAILBOX, reason="unparseable")


def test_a_webhook_body_is_ciphertext_in_the_database_and_bytes_in_python() -> None:
    delivery = _accept()

    stored = _stored(delivery)
    assert stored.startswith(b"KVF1\x01a")
    assert b"943" not in stored
    raw = Delivery.objects.get(pk=delivery.pk).raw
    assert type(raw) is bytes
    assert raw == BODY


def test_a_quarantined_original_is_sealed_and_kept_byte_for_byte() -> None:
    item = _quarantine()

    assert b"943" not in _stored(item)
    assert QuarantinedMessage.objects.get(pk=item.pk).raw == BROKEN


def test_the_quarantine_download_gives_the_original_bytes(
    admin_agent: Agent, client: Client
) -> None:
    item = _quarantine()
    client.force_login(admin_agent)

    response = client.get(f"/admin/ingest/quarantinedmessage/{item.pk}/raw/")

    assert response.status_code == 200
    assert response.content == BROKEN


def test_a_row_stored_before_encryption_reads_as_plaintext() -> None:
    delivery = _accept()
    _store(delivery, b"kept before encryption")

    assert Delivery.objects.get(pk=delivery.pk).raw == b"kept before encryption"


def test_an_empty_body_stays_empty() -> None:
    delivery = deliveries.accept(b"", adapter="test", channel="sms", source="twilio:+1")

    assert _stored(delivery) == b""
    assert Delivery.objects.get(pk=delivery.pk).raw == b""


def test_a_body_copied_into_the_other_column_does_not_open() -> None:
    delivery = _accept()
    item = _quarantine()
    _store(item, _stored(delivery))

    with pytest.raises(CorruptCiphertextError, match="does not open"):
        QuarantinedMessage.objects.get(pk=item.pk)


def test_a_body_sealed_under_a_key_no_longer_configured_names_it(settings: Any) -> None:
    delivery = _accept()
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_B

    with pytest.raises(MissingKeyError, match="'a'"):
        Delivery.objects.get(pk=delivery.pk)


def test_filtering_on_the_sealed_bytes_is_refused_instead_of_matching_nothing() -> None:
    _accept()

    with pytest.raises(FieldError, match="Unsupported lookup 'exact'"):
        Delivery.objects.filter(raw=BODY).count()
    assert Delivery.objects.filter(raw__isnull=False).count() == 1
