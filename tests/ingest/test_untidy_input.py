from __future__ import annotations

import pytest

from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Message
from kiwidesk.contacts.models import Contact
from kiwidesk.ingest.services import UnroutableMessageError, ingest
from tests.ingest import inbound


def test_nul_characters_are_dropped_rather_than_losing_the_message(db: None) -> None:
    mail = inbound.email(subject="Broken\x00 subject", text="Hello\x00 there", html="<p>a\x00b</p>")

    result = ingest(mail)

    stored = Message.objects.get(pk=result.message.pk)
    assert (stored.body_text, stored.body_html) == ("Hello there", "<p>ab</p>")
    assert result.case.subject == "Broken subject"


def test_overlong_subject_is_cut_to_fit(db: None) -> None:
    result = ingest(inbound.email(subject="x" * 300))

    assert len(result.case.subject) == 250


def test_overlong_message_id_is_cut_and_still_recognised_on_redelivery(db: None) -> None:
    long_id = "<" + "x" * 400 + "@mail.example.org>"
    ingest(inbound.email(external_id=long_id))

    second = ingest(inbound.email(external_id=long_id))

    assert second.duplicate is True
    assert len(second.message.external_id) == 255


def test_overlong_attachment_type_is_cut_to_fit(db: None) -> None:
    odd = NewAttachment("notes.txt", "text/plain; " + "x" * 300, b"notes")

    result = ingest(inbound.email(attachments=(odd,)))

    assert len(result.message.attachments.get().content_type) == 120


def test_sender_address_longer_than_an_address_can_be_is_refused(db: None) -> None:
    sender = "a" * 250 + "@example.org"

    with pytest.raises(UnroutableMessageError, match="an address of 262 characters"):
        ingest(inbound.email(sender))

    assert (Message.objects.count(), Contact.objects.count()) == (0, 0)


def test_subject_of_a_message_without_one_is_its_first_line(db: None) -> None:
    result = ingest(inbound.email(subject="", text="\n  Booking for Friday  \nmore"))

    assert result.case.subject == "Booking for Friday"


def test_mail_whose_only_attachment_was_refused_is_still_stored(db: None) -> None:
    program = NewAttachment("setup.exe", "application/octet-stream", b"MZ\x90\x00")

    result = ingest(inbound.email(text="", full_text="", attachments=(program,)))

    assert (result.message.body_text, result.message.attachments.count()) == ("(no text)", 0)
    assert list(result.case.events.values_list("kind", flat=True))[-1] == "attachment_refused"
