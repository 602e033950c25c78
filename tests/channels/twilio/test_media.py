"""Photos and files customers send by MMS or WhatsApp through Twilio become attachments."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from kiwidesk.cases.models import Message
from kiwidesk.ingest.models import Delivery
from tests.channels.conftest import FileHost, stored_files
from tests.channels.twilio.conftest import ACCOUNT_SID, AUTH_TOKEN, MESSAGES_PATH, sms_form
from tests.channels.twilio.conftest import post_signed as post_twilio

pytestmark = pytest.mark.django_db

PHOTO = b"\xff\xd8\xff\xe0" + b"photo of the booking confirmation" * 10
MEDIA_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME0123456789"
TWILIO_BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


@pytest.fixture
def twilio_host(file_host: FileHost, settings: Any) -> FileHost:
    settings.KIWIDESK_TWILIO_API_BASE_URL = file_host.base_url
    return file_host


def mms(url: str, content_type: str = "image/jpeg") -> bytes:
    return sms_form(
        body="Here is the confirmation", NumMedia="1", MediaUrl0=url, MediaContentType0=content_type
    )


def test_an_mms_photo_is_downloaded_with_the_accounts_credentials_and_attached(
    client: Client, twilio_host: FileHost
) -> None:
    url = twilio_host.serve(MEDIA_PATH, PHOTO, content_type="image/jpeg")

    post_twilio(client, MESSAGES_PATH, mms(url))

    message = Message.objects.get()
    assert stored_files(message) == [("ME0123456789.jpg", "image/jpeg", PHOTO)]
    assert twilio_host.requests == [{"path": MEDIA_PATH, "authorization": TWILIO_BASIC}]


def test_media_twilio_no_longer_has_is_noted_on_the_message(
    client: Client, twilio_host: FileHost
) -> None:
    url = twilio_host.base_url + MEDIA_PATH  # nothing served there: a 404

    post_twilio(client, MESSAGES_PATH, mms(url))

    message = Message.objects.get()
    assert stored_files(message) == []
    assert message.body_text.endswith(
        "[Attachment (image/jpeg) not downloaded: the provider answered 404]"
    )


def test_media_on_a_failing_twilio_is_retried_and_the_message_waits(
    client: Client, twilio_host: FileHost
) -> None:
    url = twilio_host.serve(MEDIA_PATH, b"", content_type="text/plain", status=503)

    post_twilio(client, MESSAGES_PATH, mms(url))

    delivery = Delivery.objects.get()
    assert (delivery.processed_at, delivery.attempts) == (None, 1)
    assert "answered 503" in delivery.last_error
    assert Message.objects.count() == 0


def test_a_media_link_off_twilios_host_gets_no_credentials(
    client: Client, twilio_host: FileHost, file_host: FileHost, settings: Any
) -> None:
    settings.KIWIDESK_TWILIO_API_BASE_URL = "https://api.twilio.com"
    url = file_host.serve(MEDIA_PATH, PHOTO, content_type="image/jpeg")

    post_twilio(client, MESSAGES_PATH, mms(url))

    assert file_host.requests == []
    assert Message.objects.get().body_text.endswith(
        "not downloaded: 127.0.0.1"
        + url.split("127.0.0.1")[1].split("/")[0]
        + " is not Twilio's media host]"
    )


def test_a_file_over_the_size_limit_is_not_stored_and_the_message_says_so(
    client: Client, twilio_host: FileHost, settings: Any
) -> None:
    settings.KIWIDESK_MAX_ATTACHMENT_BYTES = 1024 * 1024
    url = twilio_host.serve(MEDIA_PATH, bytes(1024 * 1024 + 1), content_type="video/mp4")

    post_twilio(client, MESSAGES_PATH, mms(url, "video/mp4"))

    message = Message.objects.get()
    assert stored_files(message) == []
    assert message.body_text.endswith(
        "[Attachment (video/mp4) not downloaded: larger than the limit of 1,048,576 bytes]"
    )


def test_the_text_lists_each_file_the_customer_sent_with_its_type(
    client: Client, twilio_host: FileHost
) -> None:
    photo = twilio_host.serve(MEDIA_PATH, PHOTO, content_type="image/jpeg")
    receipt = twilio_host.serve(MEDIA_PATH + "X", b"%PDF-1.7", content_type="application/pdf")
    body = sms_form(
        body="Photo of the receipt",
        NumMedia="2",
        MediaUrl0=photo,
        MediaContentType0="image/jpeg",
        MediaUrl1=receipt,
        MediaContentType1="application/pdf",
    )

    post_twilio(client, MESSAGES_PATH, body)

    message = Message.objects.get()
    assert message.body_text == (
        f"Photo of the receipt\n[Attachment: image/jpeg {photo}]\n"
        f"[Attachment: application/pdf {receipt}]"
    )
    assert [name for name, _, _ in stored_files(message)] == [
        "ME0123456789.jpg",
        "ME0123456789X.pdf",
    ]
