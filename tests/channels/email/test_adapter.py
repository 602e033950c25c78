from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kiwidesk.cases.content import NewAttachment
from kiwidesk.channels.email import adapter, mime
from kiwidesk.channels.email.adapter import UnparseableMessageError, parse
from kiwidesk.ingest import parsers
from kiwidesk.ingest.contract import Sender
from tests.channels.email.mail import SOURCE, parsed, raw


def test_email_parser_is_registered_for_reprocessing_quarantined_mail() -> None:
    registered = parsers.parser_for("email")

    assert registered is parse


def test_message_keeps_channel_source_and_raw_bytes() -> None:
    message = parsed("reply_with_token.eml")

    assert (message.channel, message.source) == ("email", SOURCE)
    assert message.raw == raw("reply_with_token.eml")


def test_sender_display_name_is_decoded_and_address_lower_cased() -> None:
    message = parsed("reply_with_token.eml")

    assert message.sender == Sender(
        kind="email", value="customer@example.org", name="Clínica Norte"
    )


def test_encoded_subject_is_decoded() -> None:
    message = parsed("reply_with_token.eml")

    assert message.subject == "Re: Réservation annulée"


def test_overlong_subject_is_cut_to_what_a_case_holds() -> None:
    mail = b"From: customer@example.org\nSubject: " + b"x" * 5000 + b"\n\nbody\n"

    message = parse(mail, SOURCE)

    assert message.subject == "x" * adapter.MAX_SUBJECT_LENGTH


def test_raw_utf8_subject_is_read_as_utf8() -> None:
    message = parsed("raw_8bit_subject.eml")

    assert message.subject == "Café réunion"


def test_recipients_come_from_delivered_to_to_and_cc_once_each() -> None:
    message = parsed("reply_with_token.eml")

    assert message.recipients == (
        "support+k7f3a9b2c4d6e8f0a1b2@kiwidesk.test",
        "billing@example.org",
    )


def test_reply_token_is_read_from_the_plus_address() -> None:
    message = parsed("reply_with_token.eml")

    assert message.reply_token == "k7f3a9b2c4d6e8f0a1b2"


def test_mail_to_the_plain_address_has_no_reply_token() -> None:
    message = parsed("html_only.eml")

    assert message.reply_token == ""


def test_threading_headers_are_kept_as_bare_message_ids() -> None:
    message = parsed("reply_with_token.eml")

    assert message.external_id == "reply-1@mail.example.org"
    assert message.in_reply_to == "outbound-7@kiwidesk.test"
    assert message.references == ("first-1@mail.example.org", "outbound-7@kiwidesk.test")


def test_date_becomes_an_aware_sent_at() -> None:
    message = parsed("reply_with_token.eml")

    assert message.sent_at == datetime(2026, 3, 3, 9, 15, tzinfo=timezone(timedelta(hours=1)))


def test_minus_zero_date_is_read_as_utc() -> None:
    message = parsed("raw_8bit_subject.eml")

    assert message.sent_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_unreadable_date_leaves_sent_at_empty() -> None:
    message = parsed("no_message_id.eml")

    assert message.sent_at is None


def test_mail_without_message_id_gets_an_id_from_its_bytes() -> None:
    digest = hashlib.sha256(raw("no_message_id.eml")).hexdigest()

    first = parsed("no_message_id.eml")
    again = parsed("no_message_id.eml")

    assert first.external_id == again.external_id == f"sha256-{digest}@kiwidesk.invalid"


def test_quoted_reply_and_sign_off_are_stripped_but_kept_in_full_text() -> None:
    message = parsed("reply_with_token.eml")

    assert message.text == "Yes, please move it to Thursday."
    assert message.full_text == (
        "Yes, please move it to Thursday.\n\nThanks,\nClínica Norte\n\n"
        "On Mon, Mar 2, 2026 at 4:00 PM, Kiwidesk Support <support@kiwidesk.test> wrote:\n\n"
        "> Your booking was cancelled. Shall we move it?"
    )


def test_html_only_mail_is_converted_to_text_with_the_quote_stripped() -> None:
    message = parsed("html_only.eml")

    assert message.text == "The screen froze again.\n\nSecond paragraph."
    assert message.html.startswith("<html><head><style>")


def test_plain_part_is_preferred_over_html() -> None:
    message = parsed("related_with_attachments.eml")

    assert message.text == "Voilà the screenshot."
    assert message.html == '<p>Voilà the screenshot: <img src="cid:shot1@mail.example.org"></p>'


def test_inline_image_and_attachment_become_attachments_with_decoded_names() -> None:
    message = parsed("related_with_attachments.eml")

    assert message.attachments == (
        NewAttachment("shot1.png", "image/png", b"\x89PNG\r\n\x1a\n", "shot1@mail.example.org"),
        NewAttachment("Facture été.pdf", "application/pdf", b"%PDF-1.4\n"),
    )


def test_base64_body_and_subject_are_decoded() -> None:
    message = parsed("base64_body.eml")

    assert (message.subject, message.text) == ("Привет", "Привет, мир!")


def test_unknown_charset_falls_back_to_utf8() -> None:
    message = parsed("unknown_charset.eml")

    assert message.text == "Café in UTF-8 under an unknown label."


def test_windows_1252_labelled_utf8_is_decoded_as_windows_1252() -> None:
    message = parsed("mislabelled_charset.eml")

    assert message.text == "Café au lait \N{EN DASH} twice"


def test_uuencoded_body_is_decoded() -> None:
    message = parsed("uuencoded.eml")

    assert message.text == "Hello from uuencode!"


def test_sender_header_stands_in_for_an_empty_from() -> None:
    message = parsed("sender_fallback.eml")

    assert message.sender == Sender(kind="email", value="robot@example.org", name="Mailing Robot")


def test_from_without_angle_brackets_still_gives_the_sender() -> None:
    mail = b"From: Big Bug bug@example.org\nSubject: x\n\nbody\n"

    message = parse(mail, SOURCE)

    assert message.sender.value == "bug@example.org"


def test_mail_without_sender_is_unparseable() -> None:
    with pytest.raises(UnparseableMessageError) as error:
        parsed("no_sender.eml")

    assert error.value.reason == "no usable sender address (From, Sender or Reply-To)"


def test_empty_bytes_are_unparseable() -> None:
    with pytest.raises(UnparseableMessageError) as error:
        parse(b" \r\n", SOURCE)

    assert error.value.reason == "the message is empty"


def test_mail_over_the_size_limit_is_unparseable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter, "MAX_MESSAGE_BYTES", 100)

    with pytest.raises(UnparseableMessageError) as error:
        parse(b"From: customer@example.org\n\n" + b"x" * 100, SOURCE)

    assert error.value.reason == "the message is 128 bytes; the limit is 100"


def test_attachments_past_the_part_cap_are_ignored() -> None:
    parts = "".join(
        f"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment;"
        f' filename="f{number}.bin"\n\ndata{number}\n'
        for number in range(1000)
    )
    mail = (
        f"From: customer@example.org\nContent-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n"
    )

    message = parse(mail.encode(), SOURCE)

    assert len(message.attachments) == mime.MAX_PARTS - 1


def test_parts_nested_past_the_depth_cap_are_ignored() -> None:
    depth = mime.MAX_DEPTH + 5
    opening = "".join(
        f"Content-Type: multipart/mixed; boundary=b{n}\n\n--b{n}\n" for n in range(depth)
    )
    closing = "".join(f"\n--b{n}--\n" for n in reversed(range(depth)))
    mail = f"From: customer@example.org\n{opening}Content-Type: text/plain\n\ndeep{closing}"

    message = parse(mail.encode(), SOURCE)

    assert message.text == ""


def test_inline_forward_names_the_original_sender() -> None:
    message = parsed("forwarded_inline.eml")

    assert message.forwarded_from == Sender(
        kind="email", value="customer@example.org", name="Customer"
    )


def test_forward_keeps_the_forwarded_text() -> None:
    message = parsed("forwarded_inline.eml")

    assert message.text.endswith("I cannot log in since this morning.")


def test_apple_mail_forward_names_the_original_sender() -> None:
    message = parsed("forwarded_apple.eml")

    assert message.forwarded_from == Sender(
        kind="email", value="customer@example.org", name="Customer"
    )


def test_attached_message_names_the_original_sender_and_is_kept_as_a_file() -> None:
    message = parsed("forwarded_attached.eml")

    assert message.forwarded_from == Sender(
        kind="email", value="customer@example.org", name="Customer"
    )
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("forwarded-message.eml", "message/rfc822")
    ]


def test_a_reply_is_not_a_forward() -> None:
    message = parsed("reply_with_token.eml")

    assert message.forwarded_from is None


def test_a_crash_while_decoding_is_unparseable(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(adapter._Body, "of", broken)

    with pytest.raises(UnparseableMessageError) as error:
        parsed("html_only.eml")

    assert error.value.reason == "cannot decode the message: RuntimeError: boom"
