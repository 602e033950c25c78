"""Inbound SMS and WhatsApp through Twilio's messaging webhook."""

from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.cases.models import Channel, Direction, Message
from kiwidesk.channels.common import hand_over
from kiwidesk.contacts.models import Identity, IdentityKind
from kiwidesk.ingest import deliveries
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from tests.channels.twilio.conftest import (
    CUSTOMER_NUMBER,
    MESSAGES_PATH,
    form,
    post_signed,
    signature,
    sms_form,
)

pytestmark = pytest.mark.django_db

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def test_signed_sms_is_stored_on_a_new_sms_case(client: Client) -> None:
    response = post_signed(client, MESSAGES_PATH, sms_form(body="Is my booking on?"))

    assert response.status_code == 200
    assert response.content == EMPTY_TWIML
    message = Message.objects.get()
    assert message.direction == Direction.INBOUND
    assert message.body_text == "Is my booking on?"
    assert message.external_id == "SM0123456789abcdef0123456789abcdef"
    assert message.thread.channel == Channel.SMS
    assert message.case.channel == Channel.SMS


def test_sms_sender_becomes_a_contact_with_an_e164_phone_identity(client: Client) -> None:
    post_signed(client, MESSAGES_PATH, sms_form())

    identity = Identity.objects.get()
    assert (identity.kind, identity.value) == (IdentityKind.PHONE, CUSTOMER_NUMBER)
    assert Message.objects.get().author_contact == identity.contact


def test_whatsapp_through_twilio_is_stored_on_a_whatsapp_thread_with_the_profile_name(
    client: Client,
) -> None:
    body = form(
        MessageSid="SM1111",
        From=f"whatsapp:{CUSTOMER_NUMBER}",
        To="whatsapp:+14155238886",
        Body="Hello from WhatsApp",
        ProfileName="Customer Example",
        WaId=CUSTOMER_NUMBER.lstrip("+"),
        NumMedia="0",
    )

    post_signed(client, MESSAGES_PATH, body)

    message = Message.objects.select_related("thread", "author_contact").get()
    assert message.thread.channel == Channel.WHATSAPP
    assert message.author_contact is not None
    assert message.author_contact.name == "Customer Example"
    identity = message.author_contact.identities.get()
    assert (identity.kind, identity.value) == (IdentityKind.WHATSAPP, CUSTOMER_NUMBER)


def test_a_whatsapp_location_through_twilio_is_shown_as_text(client: Client) -> None:
    body = form(
        MessageSid="SM2222",
        From=f"whatsapp:{CUSTOMER_NUMBER}",
        To="whatsapp:+14155238886",
        Body="",
        Latitude="51.5072",
        Longitude="-0.1276",
        Label="Hotel entrance",
        NumMedia="0",
    )

    post_signed(client, MESSAGES_PATH, body)

    assert Message.objects.get().body_text == "[Location: 51.5072, -0.1276] Hotel entrance"


def test_the_same_webhook_delivered_twice_stores_one_message(client: Client) -> None:
    body = sms_form()

    first = post_signed(client, MESSAGES_PATH, body)
    second = post_signed(client, MESSAGES_PATH, body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert Message.objects.count() == 1


def test_a_second_sms_from_the_same_number_continues_its_open_case(client: Client) -> None:
    post_signed(client, MESSAGES_PATH, sms_form(sid="SM0001", body="Is my booking on?"))

    post_signed(client, MESSAGES_PATH, sms_form(sid="SM0002", body="It is for tonight."))

    first, second = Message.objects.order_by("id")
    assert second.thread_id == first.thread_id
    assert second.body_text == "It is for tonight."


def test_a_sender_number_that_cannot_be_e164_is_quarantined_with_its_body(client: Client) -> None:
    body = form(MessageSid="SM3333", From="+2222", To="+1111", Body="Hello", NumMedia="0")

    response = post_signed(client, MESSAGES_PATH, body)

    assert response.status_code == 200
    assert Message.objects.count() == 0
    item = QuarantinedMessage.objects.get()
    assert (item.channel, item.source, item.external_id) == (Channel.SMS, "twilio:+1111", "SM3333")
    assert bytes(item.raw) == body


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, id="wrong"),
    ],
)
def test_an_unsigned_or_badly_signed_webhook_is_refused_and_stores_nothing(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.post(
        MESSAGES_PATH,
        data=sms_form(),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(client: Client) -> None:
    signed = signature(f"http://testserver{MESSAGES_PATH}", sms_form(body="Hello"))

    response = client.post(
        MESSAGES_PATH,
        data=sms_form(body="Send me the refund"),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signed},
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_a_signature_made_with_another_auth_token_is_refused(client: Client) -> None:
    body = sms_form()
    forged = signature(f"http://testserver{MESSAGES_PATH}", body, token="someone-elses-token")

    response = client.post(
        MESSAGES_PATH,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": forged},
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_without_an_auth_token_every_webhook_is_refused(client: Client, settings: object) -> None:
    settings.KIWIDESK_TWILIO_AUTH_TOKEN = ""  # type: ignore[attr-defined]

    response = post_signed(client, MESSAGES_PATH, sms_form())

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_behind_a_proxy_the_signature_covers_the_public_url(
    client: Client, settings: object
) -> None:
    settings.KIWIDESK_PUBLIC_URL = "https://help.example.org"  # type: ignore[attr-defined]
    public = f"https://help.example.org{MESSAGES_PATH}"

    response = post_signed(client, MESSAGES_PATH, sms_form(), url=public)

    assert response.status_code == 200
    assert Message.objects.count() == 1


def test_behind_a_proxy_a_signature_for_the_internal_url_is_refused(
    client: Client, settings: object
) -> None:
    settings.KIWIDESK_PUBLIC_URL = "https://help.example.org"  # type: ignore[attr-defined]

    response = post_signed(client, MESSAGES_PATH, sms_form())

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_the_webhook_answers_only_post(client: Client) -> None:
    response = client.get(MESSAGES_PATH)

    assert response.status_code == 405


def test_a_message_ingest_refuses_is_quarantined_with_ingests_reason() -> None:
    refused = InboundMessage(
        channel=Channel.SMS,
        source="twilio:+447700900999",
        external_id="SM4444",
        sender=Sender(IdentityKind.PHONE, "not a number"),
        text="Hello",
    )

    hand_over(
        b"raw",
        channel=Channel.SMS,
        source=refused.source,
        external_id="SM4444",
        parse=lambda: refused,
    )

    item = QuarantinedMessage.objects.get()
    assert item.reason == "unroutable: unusable sender: 'not a number' is not an E.164 phone number"
    assert Message.objects.count() == 0


def test_the_webhook_answers_once_the_body_is_kept_and_stores_the_message_later(
    client: Client,
) -> None:
    body = sms_form()

    response = client.post(
        MESSAGES_PATH,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature(f"http://testserver{MESSAGES_PATH}", body)},
    )

    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert (delivery.adapter, delivery.channel, delivery.source) == (
        "twilio",
        Channel.SMS,
        "twilio:+447700900999",
    )
    assert bytes(delivery.raw) == body
    assert Message.objects.count() == 0


def test_a_body_handled_again_after_a_crash_stores_its_message_once(client: Client) -> None:
    post_signed(client, MESSAGES_PATH, sms_form(body="Is my booking on?"))
    # The worker died after ingest committed but before the queue row was marked.
    Delivery.objects.update(processed_at=None)

    outcome = deliveries.process(Delivery.objects.get().pk)

    assert outcome == deliveries.Outcome.PROCESSED
    assert Message.objects.count() == 1
