"""A text attachment carries the personal data found in it, as a message's text does."""

from __future__ import annotations

import pytest

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.content import PII_SCAN_BYTES, NewAttachment, attachment_findings
from kiwidesk.cases.models import Attachment
from tests.factories.cases import customer_thread, make_case

TEXT = "name,phone,email\nJane Doe,07700 900123,jane.doe@example.org\n"
FINDINGS = [["phone", 26, 38], ["email", 39, 59]]


def test_a_csv_attachment_has_its_phone_number_and_email_found() -> None:
    findings = attachment_findings(TEXT.encode(), "text/csv")

    assert findings == FINDINGS
    assert [TEXT[start:end] for _, start, end in findings] == [
        "07700 900123",
        "jane.doe@example.org",
    ]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "Text/Plain; charset=UTF-8", "text/markdown", "application/json",
     "message/rfc822"],
)  # fmt: skip
def test_every_text_type_is_scanned(content_type: str) -> None:
    assert attachment_findings(TEXT.encode(), content_type) == FINDINGS


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "text/html", ""])
def test_other_types_are_not_scanned(content_type: str) -> None:
    assert attachment_findings(TEXT.encode(), content_type) == []


def test_text_that_is_not_utf8_is_not_guessed_at() -> None:
    latin1 = "Adresse: jane.doe@example.org, née à Zürich".encode("latin-1")

    assert attachment_findings(latin1, "text/plain") == []


def test_personal_data_past_the_scanned_start_is_not_found() -> None:
    content = b"x" * PII_SCAN_BYTES + b" jane.doe@example.org"

    assert attachment_findings(content, "text/plain") == []


def test_a_character_cut_in_two_by_the_limit_does_not_stop_the_scan() -> None:
    # "é" is two bytes in UTF-8; its first byte is the last one scanned.
    start = b"jane.doe@example.org "
    content = start + b"x" * (PII_SCAN_BYTES - len(start) - 1) + "é and more".encode()

    assert attachment_findings(content, "text/plain") == [["email", 0, 20]]


@pytest.mark.django_db(databases="__all__")
def test_a_reply_stores_the_personal_data_of_its_text_attachment(agent: Agent) -> None:
    case = make_case(agent)
    contacts = NewAttachment("contacts.csv", "text/csv", TEXT.encode())
    screenshot = NewAttachment("screen.png", "image/png", b"\x89PNG jane.doe@example.org")

    reply = services.reply(
        agent, customer_thread(case), text="As asked", attachments=[contacts, screenshot]
    )

    stored = Attachment.objects.filter(message=reply).order_by("filename")
    assert [(a.filename, a.pii) for a in stored] == [
        ("contacts.csv", FINDINGS),
        ("screen.png", []),
    ]
