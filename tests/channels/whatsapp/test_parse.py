"""Each WhatsApp message type as the agent reads it, from pywa's captured bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiwidesk.cases.models import Channel
from kiwidesk.channels.common import UnreadablePayloadError
from kiwidesk.channels.whatsapp import adapter
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.parsers import parser_for
from tests.channels.twilio.conftest import sms_form
from tests.channels.whatsapp.conftest import pywa


def parsed(file: str, name: str) -> list[InboundMessage]:
    items = adapter.split(pywa(file, name)).messages
    return [adapter.parse(item.raw, item.source) for item in items]


def only_text(file: str, name: str) -> str:
    (message,) = parsed(file, name)
    return message.text


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("text", "Body Text"),
        ("image", "[Image: image/jpeg, media id 65463453]"),
        ("media_with_url", "[Image: image/jpeg, media id 65463453]"),
        ("video", "[Forwarded] [Video: video/mp4, media id 765756756] caption"),
        (
            "document",
            "[Forwarded] [Document: application/pdf, filename.pdf, media id 1234567890987654321]"
            " caption",
        ),
        ("audio", "[Forwarded] [Audio: audio/ogg; codecs=opus, media id 1234567890987654321]"),
        ("voice", "[Voice message: audio/ogg; codecs=opus, media id 1234567890987654321]"),
        ("static_sticker", "[Sticker: image/webp, media id 1234567890987654321]"),
        ("animated_sticker", "[Sticker: image/webp, media id 1234567890987654321]"),
        ("current_location", "[Forwarded] [Location: 12.25089, 43.90539]"),
        (
            "chosen_location",
            "[Forwarded] [Location: 37.4611978, -122.2164385] Facebook HQ, "
            "1 Hacker Way, Menlo Park, CA 94025, https://maps.google.com/?cid=2000000000000000000",
        ),
        (
            "contacts",
            "[Contact: Chandler Bing +1 555-555-5555]\n[Contact: Monica +1 666-666-6666]\n"
            "[Contact: Rachel Green +1 777-777-7777]",
        ),
        (
            "order",
            "[Order]\n3 x HAMBURGER at 30 ILS\n2 x FRENCH_FRIES at 35 ILS\n2 x SODA at 10 ILS",
        ),
        ("unsupported", "[unsupported message]"),
        ("unsupported_with_type", "[unsupported message]"),
        ("interactive_message_with_err", "[unsupported message]"),
        ("reply", "replied text"),
        ("forwarded", "[Forwarded] forwarded text"),
        ("forwarded_many_times", "[Forwarded] text forwarded many times"),
        ("referral", "BODY\n[From an ad: AD_TITLE AD_OR_POST_FB_URL]"),
    ],
)
def test_each_message_type_reads_as_text(name: str, text: str) -> None:
    assert only_text("message.json", name) == text


@pytest.mark.parametrize(
    ("file", "name", "text"),
    [
        ("callback_button.json", "button", "title"),
        ("callback_button.json", "quick_reply", "title"),
        ("callback_selection.json", "callback", "title"),
        ("callback_selection.json", "description", "title — description"),
        ("call_permission_update.json", "accept", "[Call permission: accept]"),
        (
            "edited_message.json",
            "image",
            "[Edited] [Image: image/jpeg, media id 1234567890] Updated image caption",
        ),
        (
            "system.json",
            "phone_number_change",
            "[WhatsApp] User A changed from 972987654321 to 972912345678",
        ),
    ],
)
def test_replies_to_buttons_lists_and_notices_read_as_text(file: str, name: str, text: str) -> None:
    assert only_text(file, name) == text


def test_a_flow_reply_keeps_the_answers_given() -> None:
    text = only_text("flow_completion.json", "completion")

    assert text.startswith("[Form reply] Sent {")
    assert '"comment_text":"Comment Text"' in text


@pytest.mark.parametrize("name", ["reaction", "unreaction_empty", "unreaction_no_emoji"])
def test_reactions_are_not_messages(name: str) -> None:
    assert parsed("message.json", name) == []


def test_a_message_carries_its_sender_source_id_and_time() -> None:
    (message,) = parsed("message.json", "reply")

    assert message.channel == Channel.WHATSAPP
    assert message.source == "whatsapp:1122334455667"
    assert message.external_id == "wamid.xyzxyz"
    assert (message.sender.kind, message.sender.value) == ("whatsapp", "+972987654321")
    assert message.sender.name == "Test Name"
    assert message.sent_at == datetime(2023, 10, 11, 17, 19, 6, tzinfo=UTC)
    assert message.in_reply_to == "wamid.xyzxyz=="


def test_a_whatsapp_system_notice_is_marked_automated() -> None:
    (message,) = parsed("system.json", "phone_number_change")

    assert message.is_automated is True


def test_a_deleted_message_from_a_placeholder_number_cannot_be_parsed() -> None:
    (item,) = adapter.split(pywa("deleted_message.json", "revoke")).messages

    with pytest.raises(UnreadablePayloadError):
        adapter.parse(item.raw, item.source)


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"text"', b"{", b"\xff\xfe"],
)
def test_a_body_that_is_not_a_json_object_is_unreadable(body: bytes) -> None:
    with pytest.raises(UnreadablePayloadError):
        adapter.split(body)


def test_shapes_meta_never_sends_are_skipped_rather_than_crashing() -> None:
    body = b'{"entry": [1, {"changes": [{"field": "messages", "value": {"messages": [2, {}]}}]}]}'

    webhook = adapter.split(body)

    assert len(webhook.messages) == 1
    with pytest.raises(UnreadablePayloadError):
        adapter.parse(webhook.messages[0].raw, webhook.messages[0].source)


def test_the_whatsapp_parser_reads_both_metas_envelopes_and_twilios_forms() -> None:
    (item,) = adapter.split(pywa("message.json", "text")).messages
    parse = parser_for(Channel.WHATSAPP)

    from_meta = parse(item.raw, item.source)
    from_twilio = parse(sms_form(body="Via Twilio"), "twilio:+447700900999")

    assert from_meta.text == "Body Text"
    assert from_twilio.text == "Via Twilio"


KNOWN_TYPES = [
    "text", "image", "video", "audio", "document", "sticker", "location", "interactive",
    "button", "contacts", "order", "system", "edit", "revoke", "reaction", "unsupported",
]  # fmt: skip
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_message = st.fixed_dictionaries(
    {"from": st.text(max_size=16), "id": st.text(max_size=8)},
    optional={
        "type": st.sampled_from([*KNOWN_TYPES, "a_type_meta_adds_later"]),
        "context": _json,
        "referral": _json,
        "timestamp": _json,
        **{kind: _json for kind in KNOWN_TYPES},
    },
)


def parsed_or_reason(item: adapter.Item) -> InboundMessage | str:
    try:
        return adapter.parse(item.raw, item.source)
    except UnreadablePayloadError as exc:
        return str(exc)


def split_or_reason(raw: bytes) -> adapter.Webhook | str:
    try:
        return adapter.split(raw)
    except UnreadablePayloadError as exc:
        return str(exc)


@settings(max_examples=60)
@given(message=_message, contacts=_json, metadata=_json)
def test_any_message_shape_parses_to_readable_text_or_is_unreadable(
    message: dict[str, object], contacts: object, metadata: object
) -> None:
    value = {"metadata": metadata, "contacts": contacts, "messages": [message]}
    body = {"entry": [{"changes": [{"field": "messages", "value": value}]}]}

    results = [parsed_or_reason(item) for item in adapter.split(json.dumps(body).encode()).messages]

    assert all(isinstance(r, str) or r.text.strip() for r in results)


@settings(max_examples=60)
@given(body=_json)
def test_any_json_body_splits_or_is_unreadable(body: object) -> None:
    result = split_or_reason(json.dumps(body).encode())

    assert isinstance(result, (adapter.Webhook, str))


def test_a_deletion_notice_tells_the_agent_the_customer_deleted_a_message() -> None:
    message = {"from": "447700900123", "id": "wamid.del", "type": "revoke", "revoke": {}}

    assert adapter.render(message) == "[The customer deleted a message]"


@pytest.mark.parametrize("timestamp", ["soon", "99999999999999999999", None])
def test_a_message_with_an_unreadable_timestamp_has_no_sent_time(timestamp: object) -> None:
    message = {"from": "447700900123", "id": "wamid.t", "type": "text", "timestamp": timestamp}
    raw = json.dumps({"metadata": {}, "contacts": [], "messages": [message]}).encode()

    assert adapter.parse(raw).sent_at is None


def test_call_statuses_and_statuses_without_an_id_are_not_delivery_updates() -> None:
    statuses = [{"id": "wacid.1", "type": "call", "status": "read"}, {"status": "read"}]
    body = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": statuses}}]}]}

    assert adapter.split(json.dumps(body).encode()).statuses == ()
