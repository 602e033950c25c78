"""Meta's webhook: the subscription handshake and signed notifications."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Channel, DeliveryStatus, Message
from kiwidesk.cases.services import record_delivery, reply
from kiwidesk.contacts.models import Identity, IdentityKind
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from tests.channels.whatsapp.conftest import (
    VERIFY_TOKEN,
    WEBHOOK_PATH,
    post_signed,
    signature,
    text_message,
    webhook,
)
from tests.factories.cases import customer_thread, make_case

pytestmark = pytest.mark.django_db


def subscribe(client: Client, **overrides: str) -> Any:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    return client.get(WEBHOOK_PATH, {**params, **overrides})


def test_the_handshake_echoes_metas_challenge(client: Client) -> None:
    response = subscribe(client)

    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"hub.verify_token": "guessed"}, id="wrong-token"),
        pytest.param({"hub.verify_token": ""}, id="empty-token"),
        pytest.param({"hub.mode": "unsubscribe"}, id="other-mode"),
    ],
)
def test_a_handshake_without_our_verify_token_is_refused(
    client: Client, overrides: dict[str, str]
) -> None:
    response = subscribe(client, **overrides)

    assert response.status_code == 403


def test_without_a_configured_verify_token_every_handshake_is_refused(
    client: Client, settings: Any
) -> None:
    settings.KIWIDESK_WHATSAPP_VERIFY_TOKEN = ""

    response = subscribe(client, **{"hub.verify_token": ""})

    assert response.status_code == 403


def test_a_signed_text_message_is_stored_on_a_whatsapp_case(client: Client) -> None:
    response = post_signed(client, webhook(text_message(body="Is my table booked?")))

    assert response.status_code == 200
    message = Message.objects.select_related("thread").get()
    assert message.body_text == "Is my table booked?"
    assert message.external_id == "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgg"
    assert message.thread.channel == Channel.WHATSAPP


def test_the_sender_becomes_a_contact_with_a_whatsapp_identity_and_profile_name(
    client: Client,
) -> None:
    post_signed(client, webhook(text_message()))

    identity = Identity.objects.select_related("contact").get()
    assert (identity.kind, identity.value) == (IdentityKind.WHATSAPP, "+447700900123")
    assert identity.contact.name == "Customer Example"


def test_every_message_of_a_batched_body_is_stored(client: Client) -> None:
    body = webhook(
        text_message("wamid.first", "Hello"),
        text_message("wamid.second", "Are you there?"),
    )

    post_signed(client, body)

    texts = list(Message.objects.order_by("id").values_list("body_text", flat=True))
    assert texts == ["Hello", "Are you there?"]


def test_the_same_webhook_delivered_twice_stores_one_message(client: Client) -> None:
    body = webhook(text_message())

    post_signed(client, body)
    post_signed(client, body)

    assert Message.objects.count() == 1


def test_a_reply_to_our_message_lands_on_the_thread_of_that_message(
    client: Client, agent: Agent
) -> None:
    post_signed(client, webhook(text_message("wamid.question", "Can I bring a dog?")))
    ours = reply(agent, Message.objects.get().thread, text="Yes, on the terrace.")
    record_delivery(ours, DeliveryStatus.SENT, at=ours.created_at, external_id="wamid.ours")
    other = make_case(customer=ours.thread.contact, channel=Channel.WHATSAPP)
    answer = text_message("wamid.answer", "Thanks!") | {"context": {"id": "wamid.ours"}}

    post_signed(client, webhook(answer))

    stored = Message.objects.get(external_id="wamid.answer")
    assert stored.thread_id == ours.thread_id
    assert stored.thread_id != customer_thread(other).pk


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Hub-Signature-256": "sha256=" + "0" * 64}, id="wrong"),
        pytest.param({"X-Hub-Signature-256": "0" * 64}, id="no-prefix"),
        pytest.param({"X-Hub-Signature-256": "sha256=é"}, id="not-ascii"),
    ],
)
def test_an_unsigned_or_badly_signed_body_is_refused_and_stores_nothing(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.post(
        WEBHOOK_PATH, data=webhook(text_message()), content_type="application/json", headers=headers
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


def test_a_body_signed_with_another_app_secret_is_refused(client: Client) -> None:
    response = post_signed(client, webhook(text_message()), secret="another-apps-secret")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(client: Client) -> None:
    signed = signature(webhook(text_message(body="Hi")))

    response = client.post(
        WEBHOOK_PATH,
        data=webhook(text_message(body="Refund me")),
        content_type="application/json",
        headers={"X-Hub-Signature-256": signed},
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_without_an_app_secret_every_body_is_refused(client: Client, settings: Any) -> None:
    settings.KIWIDESK_WHATSAPP_APP_SECRET = ""

    response = post_signed(client, webhook(text_message()), secret="")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_a_signed_body_that_is_not_json_is_quarantined(client: Client) -> None:
    response = post_signed(client, b"not json at all")

    assert response.status_code == 200
    assert bytes(QuarantinedMessage.objects.get().raw) == b"not json at all"


def test_a_signed_body_is_kept_at_once_and_its_messages_are_stored_later(client: Client) -> None:
    body = webhook(text_message())

    response = client.post(
        WEBHOOK_PATH,
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature(body)},
    )

    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert (delivery.adapter, delivery.channel, bytes(delivery.raw)) == (
        "whatsapp-webhook",
        Channel.WHATSAPP,
        body,
    )
    assert Message.objects.count() == 0
