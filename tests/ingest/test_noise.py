from __future__ import annotations

import pytest

from kiwidesk.cases import services as cases
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Case, Event, EventKind, Message, Status
from kiwidesk.ingest import services
from kiwidesk.ingest.services import RateLimitedError, ingest, quarantine
from tests.ingest import inbound

FIRST = "<first@mail.example.org>"


def test_auto_reply_to_a_solved_case_is_stored_but_does_not_reopen_it(db: None) -> None:
    first = ingest(inbound.email(external_id=FIRST))
    cases.update_case(None, first.case, {"status": Status.SOLVED})

    auto = ingest(
        inbound.email(external_id="<ooo@mail.example.org>", in_reply_to=FIRST,
                      text="I am out of the office.", is_automated=True)
    )  # fmt: skip

    assert auto.case == first.case
    assert auto.message.is_automated is True
    assert Case.objects.get(pk=first.case.pk).status == Status.SOLVED
    assert Event.objects.filter(case=first.case, kind=EventKind.CASE_REOPENED).count() == 0


def test_mail_from_a_person_is_not_marked_automated(db: None) -> None:
    result = ingest(inbound.email())

    assert result.message.is_automated is False


def test_sender_over_the_rate_limit_is_refused_with_reason_rate_limit(db: None) -> None:
    for n in range(services.RATE_LIMIT):
        ingest(inbound.email("loop@example.com", external_id=f"<loop-{n}@example.com>"))

    with pytest.raises(RateLimitedError) as refused:
        ingest(inbound.email("loop@example.com", external_id="<loop-over@example.com>"))

    assert refused.value.reason == "rate limit"
    assert str(refused.value).startswith("rate limit: loop@example.com sent more than 20")
    assert Message.objects.count() == services.RATE_LIMIT


def test_rate_limited_mail_is_quarantined_by_the_adapter_with_its_reason(db: None) -> None:
    for n in range(services.RATE_LIMIT):
        ingest(inbound.email("loop@example.com", external_id=f"<loop-{n}@example.com>"))
    over = inbound.email("loop@example.com", external_id="<over@example.com>", raw=b"raw loop")

    with pytest.raises(RateLimitedError) as refused:
        ingest(over)
    kept = quarantine(over.raw, channel=over.channel, source=over.source,
                      reason=refused.value.reason, external_id=over.external_id)  # fmt: skip

    assert (kept.reason, bytes(kept.raw)) == ("rate limit", b"raw loop")


def test_other_senders_are_not_slowed_by_a_looping_sender(db: None) -> None:
    for n in range(services.RATE_LIMIT):
        ingest(inbound.email("loop@example.com", external_id=f"<loop-{n}@example.com>"))

    result = ingest(inbound.email("customer@example.org", external_id="<fine@example.org>"))

    assert result.duplicate is False


def test_chatty_sms_sender_is_not_rate_limited(db: None) -> None:
    for n in range(services.RATE_LIMIT):
        ingest(inbound.sms(external_id=f"SM{n:04}"))

    result = ingest(inbound.sms(external_id="SM9999"))

    assert result.case.messages.count() == services.RATE_LIMIT + 1


def test_dangerous_attachment_is_refused_with_an_event_and_the_rest_is_kept(db: None) -> None:
    mail = inbound.email(attachments=(
        NewAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4"),
        NewAttachment("invoice.exe", "application/octet-stream", b"MZ"),
    ))  # fmt: skip

    result = ingest(mail)

    assert list(result.message.attachments.values_list("filename", flat=True)) == ["invoice.pdf"]
    refused = Event.objects.get(kind=EventKind.ATTACHMENT_REFUSED)
    assert (refused.case, refused.message, refused.payload["filename"]) == (
        result.case, result.message, "invoice.exe",
    )  # fmt: skip


def test_original_bytes_and_full_text_are_kept(db: None) -> None:
    raw = b"From: customer@example.org\r\n\r\nThanks!\r\n> quoted\r\n"
    mail = inbound.email(text="Thanks!", full_text="Thanks!\n> quoted", raw=raw)

    result = ingest(mail)

    stored = Message.objects.get(pk=result.message.pk)
    assert stored.full_text == "Thanks!\n> quoted"
    with stored.raw_file.open("rb") as kept:
        assert kept.read() == raw


def test_message_without_text_is_stored_with_a_placeholder(db: None) -> None:
    result = ingest(inbound.email(text=""))

    assert result.message.body_text == "(no text)"


def test_the_same_original_sent_twice_is_stored_once(db: None) -> None:
    raw = b"From: customer@example.org\r\n\r\nSame bytes\r\n"
    first = ingest(inbound.email(external_id="<a@mail.example.org>", raw=raw))

    second = ingest(inbound.email(external_id="<b@mail.example.org>", raw=raw))

    assert first.message.raw_file.name == second.message.raw_file.name
