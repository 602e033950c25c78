"""Replay the captured Twilio inbound-SMS bodies through the real webhook, signed."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from kiwidesk.cases.models import Channel, Message
from kiwidesk.ingest.models import QuarantinedMessage
from kiwidesk.ingest.parsers import parser_for
from tests.channels.twilio.conftest import MESSAGES_PATH, post_signed

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def captured(name: str) -> bytes:
    """A fixture as Twilio would post it: the form as is, a JSON dictionary form-encoded."""
    path = FIXTURES / name
    if path.suffix == ".json":
        return urlencode(json.loads(path.read_text())).encode()
    return path.read_bytes().strip()


@pytest.mark.parametrize(
    "name",
    [
        "NoMediaPayload.txt",
        "MediaPayload.txt",
        "DictionaryPayload.json",
        "DictionaryMediaPayload.json",
        "OlderPayload.txt",
    ],
)
def test_every_captured_body_is_answered_and_ends_stored_or_quarantined(
    client: Client, name: str
) -> None:
    response = post_signed(client, MESSAGES_PATH, captured(name))

    assert response.status_code == 200
    assert Message.objects.count() + QuarantinedMessage.objects.count() == 1


def test_the_body_with_a_real_number_is_stored_as_an_sms_from_argentina(client: Client) -> None:
    post_signed(client, MESSAGES_PATH, captured("OlderPayload.txt"))

    message = Message.objects.select_related("thread", "author_contact").get()
    assert message.body_text == "Hello"
    assert message.external_id == "SMc56324aa4a31735561b7205472192d68"
    assert message.thread.channel == Channel.SMS
    assert message.author_contact is not None
    assert message.author_contact.identities.get().value == "+541138050810"


@pytest.mark.parametrize("name", ["NoMediaPayload.txt", "MediaPayload.txt"])
def test_the_scrubbed_numbers_cannot_identify_anyone_so_the_body_is_quarantined(
    client: Client, name: str
) -> None:
    body = captured(name)

    post_signed(client, MESSAGES_PATH, body)

    item = QuarantinedMessage.objects.get()
    assert (item.source, item.external_id) == ("twilio:+1111", "3333")
    assert bytes(item.raw) == body


def test_the_twilio_parser_is_registered_for_reprocessing_quarantined_items() -> None:
    body = captured("OlderPayload.txt")

    parsed = parser_for("twilio")(body, "twilio:+16693421974")

    assert (parsed.channel, parsed.source) == (Channel.SMS, "twilio:+16693421974")
    assert (parsed.sender.kind, parsed.sender.value) == ("phone", "+541138050810")
    assert parsed.text == "Hello"
