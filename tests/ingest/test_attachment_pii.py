"""An inbound text attachment carries the personal data found in it, whichever way it came."""

from __future__ import annotations

import pytest

from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Attachment
from kiwidesk.ingest.batch import ingest_many
from kiwidesk.ingest.services import ingest
from tests.ingest import inbound

TEXT = "name,phone,email\nJane Doe,07700 900123,jane.doe@example.org\n"
FINDINGS = [["phone", 26, 38], ["email", 39, 59]]
CONTACTS = NewAttachment("contacts.csv", "text/csv", TEXT.encode())
LOGO = NewAttachment("logo.png", "image/png", b"\x89PNG jane.doe@example.org")

pytestmark = pytest.mark.django_db(databases="__all__")


def _stored(message_pk: int) -> list[tuple[str, list[list[object]]]]:
    return [(a.filename, a.pii) for a in Attachment.objects.filter(message_id=message_pk)]


def test_an_inbound_mail_stores_what_personal_data_its_text_attachment_holds() -> None:
    result = ingest(inbound.email(text="See the list.", attachments=(CONTACTS, LOGO)))

    assert _stored(result.message.pk) == [("contacts.csv", FINDINGS), ("logo.png", [])]


def test_a_batch_stores_the_same_attachment_findings_as_one_by_one_ingest() -> None:
    messages = [
        inbound.email(f"customer{n}@example.org", external_id=f"<{n}@mail>", attachments=files)
        for n, files in enumerate([(CONTACTS,), (LOGO,), (CONTACTS, LOGO)])
    ]

    outcomes = ingest_many(messages)

    stored = [_stored(outcome.message.pk) for outcome in outcomes]  # type: ignore[union-attr]
    assert stored == [
        [("contacts.csv", FINDINGS)],
        [("logo.png", [])],
        [("contacts.csv", FINDINGS), ("logo.png", [])],
    ]
