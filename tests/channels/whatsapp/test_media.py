"""Photos, voice notes and documents customers send on WhatsApp become attachments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kiwidesk.cases.models import Message
from tests.channels.conftest import FileHost, stored_files
from tests.channels.whatsapp.conftest import ACCESS_TOKEN, post_signed, text_message, webhook

pytestmark = pytest.mark.django_db

PHOTO = b"\xff\xd8\xff\xe0" + b"photo of the booking confirmation" * 10


@pytest.fixture
def graph_host(file_host: FileHost, settings: Any) -> FileHost:
    settings.KIWIDESK_WHATSAPP_GRAPH_URL = file_host.base_url + "/v23.0"
    return file_host


def test_a_whatsapp_photo_is_fetched_through_the_graph_api_and_attached(
    client: Client, graph_host: FileHost
) -> None:
    download = graph_host.serve("/files/photo-1", PHOTO, content_type="image/jpeg")
    graph_host.serve(
        "/v23.0/1234567890",
        json.dumps({"url": download, "mime_type": "image/jpeg", "id": "1234567890"}).encode(),
        content_type="application/json",
    )
    photo = {
        **text_message(),
        "type": "image",
        "image": {"id": "1234567890", "mime_type": "image/jpeg", "caption": "The receipt"},
    }
    del photo["text"]

    post_signed(client, webhook(photo))

    message = Message.objects.get()
    assert stored_files(message) == [("whatsapp-image-1234567890.jpg", "image/jpeg", PHOTO)]
    assert [r["authorization"] for r in graph_host.requests] == [f"Bearer {ACCESS_TOKEN}"] * 2


def test_a_whatsapp_document_keeps_the_name_the_customer_gave_it(
    client: Client, graph_host: FileHost
) -> None:
    download = graph_host.serve("/files/doc-1", b"%PDF-1.7 ...", content_type="application/pdf")
    graph_host.serve(
        "/v23.0/555", json.dumps({"url": download}).encode(), content_type="application/json"
    )
    document = {
        **text_message(),
        "type": "document",
        "document": {"id": "555", "mime_type": "application/pdf", "filename": "invoice.pdf"},
    }
    del document["text"]

    post_signed(client, webhook(document))

    assert stored_files(Message.objects.get()) == [
        ("invoice.pdf", "application/pdf", b"%PDF-1.7 ...")
    ]
