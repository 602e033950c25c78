"""Replay every captured WhatsApp body through the real webhook, signed with the test secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from kiwidesk.cases.models import Direction, Message
from kiwidesk.channels.whatsapp import adapter
from kiwidesk.ingest.models import QuarantinedMessage
from tests.channels.whatsapp.conftest import FIXTURES, post_signed, pywa

pytestmark = pytest.mark.django_db


def pywa_bodies() -> list[tuple[str, str]]:
    return [
        (path.name, name)
        for path in sorted((FIXTURES / "pywa").glob("*.json"))
        for name in json.loads(path.read_text())
    ]


def meta_bodies() -> list[Path]:
    return sorted((FIXTURES / "meta_v25").glob("*.json"))


@pytest.mark.parametrize(("file", "name"), pywa_bodies())
def test_every_pywa_body_is_answered_and_each_message_ends_stored_or_quarantined(
    client: Client, file: str, name: str
) -> None:
    body = pywa(file, name)
    expected = len(adapter.split(body).messages)

    response = post_signed(client, body)

    assert response.status_code == 200
    inbound = Message.objects.filter(direction=Direction.INBOUND).count()
    assert inbound + QuarantinedMessage.objects.count() == expected


def test_the_pywa_corpus_holds_all_the_bodies_it_promises() -> None:
    assert len(pywa_bodies()) == 74


@pytest.mark.parametrize("path", meta_bodies(), ids=lambda path: path.stem)
def test_every_meta_example_body_is_answered(client: Client, path: Path) -> None:
    response = post_signed(client, path.read_bytes())

    assert response.status_code == 200


def test_metas_example_text_message_is_stored_from_its_sender(client: Client) -> None:
    post_signed(client, (FIXTURES / "meta_v25" / "incoming.json").read_bytes())

    message = Message.objects.select_related("author_contact").get()
    assert message.body_text == "this is a text message"
    assert message.external_id == "ABGGFlA5Fpa"
    assert message.author_contact is not None
    assert message.author_contact.name == "test user name"
    assert message.author_contact.identities.get().value == "+16315551181"


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("message.json", "text"),
        ("message.json", "image"),
        ("message.json", "chosen_location"),
        ("message.json", "unsupported"),
        ("callback_button.json", "button"),
        ("callback_selection.json", "description"),
        ("edited_message.json", "image"),
    ],
)
def test_pywa_messages_are_stored_with_their_parsed_text(
    client: Client, file: str, name: str
) -> None:
    body = pywa(file, name)
    (item,) = adapter.split(body).messages

    post_signed(client, body)

    assert Message.objects.get().body_text == adapter.parse(item.raw).text


def test_a_deleted_message_notice_from_a_placeholder_number_is_quarantined(
    client: Client,
) -> None:
    post_signed(client, pywa("deleted_message.json", "revoke"))

    item = QuarantinedMessage.objects.get()
    assert (item.channel, item.external_id) == ("whatsapp", "<WHATSAPP_MESSAGE_ID>")
