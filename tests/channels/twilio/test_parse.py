"""Twilio's form, whatever it holds, parses to readable text or is unreadable."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from kiwidesk.channels.common import UnreadablePayloadError
from kiwidesk.channels.twilio import adapter
from kiwidesk.ingest.contract import InboundMessage

FIELDS = [
    "MessageSid", "SmsMessageSid", "From", "To", "Body", "NumMedia", "ProfileName",
    "MediaUrl0", "MediaContentType0", "MediaUrl9", "Latitude", "Longitude", "Label", "Address",
]  # fmt: skip


def parsed_or_reason(raw: bytes) -> InboundMessage | str:
    try:
        return adapter.parse(raw)
    except UnreadablePayloadError as exc:
        return str(exc)


@settings(max_examples=80)
@given(
    fields=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=20), max_size=len(FIELDS)),
    sender=st.sampled_from(["+447700900123", "whatsapp:+447700900123", "+1", "", "whatsapp:"]),
)
def test_any_form_parses_to_readable_text_or_is_unreadable(
    fields: dict[str, str], sender: str
) -> None:
    raw = urlencode({**fields, "From": sender}).encode()

    result = parsed_or_reason(raw)

    assert isinstance(result, str) or result.text.strip() != ""


def test_a_form_without_a_message_sid_is_unreadable() -> None:
    raw = urlencode({"From": "+447700900123", "Body": "Hello"}).encode()

    assert parsed_or_reason(raw) == "the webhook has no MessageSid"
