"""Mail arriving through providers' inbound webhooks (django-anymail's verified views)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Channel, Direction, Message
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.email import providers
from kiwidesk.ingest import deliveries
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from tests.channels.email import provider_webhooks as hooks
from tests.channels.email.mail import DATASETS
from tests.factories.cases import make_third_party_thread

pytestmark = pytest.mark.django_db

PROVIDERS = ["mailgun", "mandrill", "mailersend"]


@pytest.fixture(autouse=True)
def _providers_configured(settings: Any) -> None:
    settings.ANYMAIL = hooks.anymail_keys()
    settings.KIWIDESK_PUBLIC_URL = ""
    # Deliveries wait for the worker; each test runs the worker's step itself.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.KIWIDESK_EMAIL_FROM = f"Harbour Help <{hooks.SUPPORT}>"


@pytest.fixture
def support_team(db: None) -> Team:
    return Team.objects.create(name="Harbour help", slug="harbour-help", email=hooks.SUPPORT)


def run_worker() -> list[deliveries.Outcome]:
    """What the worker does with every accepted body, in order."""
    pending = Delivery.objects.filter(processed_at__isnull=True).order_by("pk")
    return [deliveries.process(pk) for pk in pending.values_list("pk", flat=True)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_signed_mail_becomes_a_message_on_a_new_email_case(client: Client, provider: str) -> None:
    response = hooks.post_signed(client, provider, hooks.customer_mail())

    run_worker()

    assert response.status_code == 200
    message = Message.objects.select_related("thread", "author_contact").get()
    assert message.direction == Direction.INBOUND
    assert message.body_text.strip() == "Can you move my booking to Friday?"
    assert message.external_id == "booking-question-1@mail.example.net"
    assert message.thread.channel == Channel.EMAIL
    assert message.case.subject == "Booking for Friday"
    assert message.author_contact is not None
    assert message.author_contact.identities.get().value == hooks.CUSTOMER


@pytest.mark.parametrize("provider", PROVIDERS)
def test_mail_is_stored_for_the_worker_before_any_case_exists(
    client: Client, provider: str
) -> None:
    hooks.post_signed(client, provider, hooks.customer_mail())

    delivery = Delivery.objects.get()
    assert delivery.adapter == providers.HANDLER
    assert delivery.channel == Channel.EMAIL
    assert delivery.source == f"provider:{provider}:{hooks.SUPPORT}"
    assert Message.objects.count() == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_kept_original_is_the_mail_exactly_as_the_provider_posted_it(
    client: Client, provider: str
) -> None:
    raw = hooks.customer_mail(body="Grüße aus Zürich: can you move my booking?")

    hooks.post_signed(client, provider, raw)
    run_worker()

    with Message.objects.get().raw_file.open("rb") as stored:
        assert stored.read() == raw


@pytest.mark.parametrize("provider", PROVIDERS)
def test_new_cases_go_to_the_team_whose_address_the_mail_was_sent_to(
    client: Client, provider: str, support_team: Team, other_team: Team
) -> None:
    hooks.post_signed(client, provider, hooks.customer_mail())

    run_worker()

    assert Message.objects.get().case.team == support_team


def test_without_an_envelope_recipient_the_first_to_address_names_the_mailbox(
    client: Client, support_team: Team
) -> None:
    body = json.loads(hooks.mailersend_body(hooks.customer_mail()))
    del body["data"]["recipients"]
    raw_body = json.dumps(body).encode()

    hooks.post_mailersend(client, raw_body)
    run_worker()

    assert Delivery.objects.get().source == f"provider:mailersend:{hooks.SUPPORT}"
    assert Message.objects.get().case.team == support_team


def test_mail_to_an_address_no_team_has_opens_a_case_without_a_team(
    client: Client, support_team: Team
) -> None:
    raw = hooks.customer_mail(to="bookings@help.example.org")

    hooks.post_signed(client, "mailgun", raw, recipient="bookings@help.example.org")
    run_worker()

    assert Message.objects.get().case.team is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_resending_the_same_mail_stores_it_once(client: Client, provider: str) -> None:
    hooks.post_signed(client, provider, hooks.customer_mail())
    hooks.post_signed(client, provider, hooks.customer_mail())

    outcomes = run_worker()

    assert outcomes == [deliveries.Outcome.PROCESSED, deliveries.Outcome.PROCESSED]
    assert Message.objects.count() == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_wrong_signature_is_refused_and_nothing_is_stored(client: Client, provider: str) -> None:
    response = hooks.post_wrongly_signed(client, provider, hooks.customer_mail())

    assert response.status_code == 403
    assert b"signature" in response.content
    assert Delivery.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0
    assert Message.objects.count() == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_missing_signature_is_refused_and_nothing_is_stored(
    client: Client, provider: str
) -> None:
    response = hooks.post_unsigned(client, provider, hooks.customer_mail())

    assert response.status_code == 403
    assert Delivery.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_without_its_signing_key_answers_404_and_stores_nothing(
    client: Client, settings: Any, provider: str
) -> None:
    settings.ANYMAIL = {}

    response = hooks.post_signed(client, provider, hooks.customer_mail())

    assert response.status_code == 404
    assert b"not configured" in response.content
    assert Delivery.objects.count() == 0


def test_mandrill_can_check_the_url_before_its_key_is_set(client: Client, settings: Any) -> None:
    settings.ANYMAIL = {}

    response = client.head(hooks.path("mandrill"))

    assert response.status_code == 200
    assert Delivery.objects.count() == 0


def test_a_get_is_not_allowed(client: Client) -> None:
    response = client.get(hooks.path("mailgun"))

    assert response.status_code == 405


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_body_over_the_upload_limit_is_refused_with_400_and_nothing_stored(
    client: Client, settings: Any, provider: str
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = hooks.post_signed(client, provider, hooks.customer_mail(body="x" * 2000))

    assert response.status_code == 400
    assert Delivery.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


def test_an_unknown_provider_answers_404(client: Client) -> None:
    response = client.post("/channels/mail/carrier-pigeon/inbound/", data={"x": "y"})

    assert response.status_code == 404
    assert Delivery.objects.count() == 0


def test_mailgun_posting_raw_mime_to_the_mime_url_is_accepted(client: Client) -> None:
    fields = hooks.mailgun_mime_fields(hooks.customer_mail())

    response = hooks.post_mailgun(client, fields, url_path="/channels/mail/mailgun/inbound/mime")
    run_worker()

    assert response.status_code == 200
    assert Message.objects.get().external_id == "booking-question-1@mail.example.net"


def test_mailgun_parsed_fields_without_raw_mime_still_become_a_message(client: Client) -> None:
    hooks.post_mailgun(client, hooks.mailgun_parsed_fields())

    run_worker()

    message = Message.objects.get()
    assert message.external_id == "parsed-by-mailgun-1@mail.example.net"
    assert message.body_text.strip() == "Is the shuttle included?"
    assert message.case.subject == "Parsed by Mailgun"


def test_mailgun_parsed_fields_keep_their_attachments(client: Client) -> None:
    fields: dict[str, Any] = hooks.mailgun_parsed_fields()
    voucher = SimpleUploadedFile("voucher.pdf", b"%PDF-1.4 voucher", "application/pdf")
    fields.update({"attachment-count": "1", "attachment-1": voucher})

    hooks.post_mailgun(client, fields)
    run_worker()

    attachment = Message.objects.get().attachments.get()
    assert (attachment.filename, attachment.content_type) == ("voucher.pdf", "application/pdf")
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 voucher"


def test_mandrill_checks_the_signature_of_the_public_url_behind_a_proxy(
    client: Client, settings: Any
) -> None:
    settings.KIWIDESK_PUBLIC_URL = "https://help.example.org"
    public = "https://help.example.org" + hooks.path("mandrill")
    event = hooks.mandrill_inbound_event(hooks.customer_mail())

    response = hooks.post_mandrill(client, [event], signed_url=public)

    assert response.status_code == 200
    assert Delivery.objects.count() == 1


def test_mandrill_tracking_events_at_the_inbound_url_store_no_mail(client: Client) -> None:
    sent = {"event": "send", "ts": 1763880000, "_id": "abc123", "msg": {"email": hooks.CUSTOMER}}

    response = hooks.post_mandrill(client, [sent])

    assert response.status_code == 200
    assert Delivery.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


def test_a_signed_body_holding_no_mail_is_kept_for_an_admin_and_answered_400(
    client: Client,
) -> None:
    body = json.dumps({"type": "activity.sent", "data": {"id": "x"}}).encode()

    response = hooks.post_mailersend(client, body)

    assert response.status_code == 400
    assert b"it was kept" in response.content
    item = QuarantinedMessage.objects.get()
    assert bytes(item.raw) == body
    assert item.source == "provider:mailersend:webhook"
    assert item.reason.startswith("unreadable mailersend webhook: AnymailConfigurationError")
    assert Delivery.objects.count() == 0


def test_a_mailgun_store_notification_at_the_inbound_url_is_kept_for_an_admin(
    client: Client,
) -> None:
    fields = hooks.mailgun_parsed_fields()
    fields["attachments"] = json.dumps([{"url": "https://storage.example/1", "name": "a.pdf"}])

    response = hooks.post_mailgun(client, fields)

    assert response.status_code == 400
    item = QuarantinedMessage.objects.get()
    assert b'name="attachments"' in bytes(item.raw)
    assert item.reason.startswith("unreadable mailgun webhook: AnymailConfigurationError")
    assert Delivery.objects.count() == 0


def test_the_same_unreadable_body_sent_again_is_kept_once(client: Client) -> None:
    body = json.dumps({"type": "activity.sent", "data": {"id": "x"}}).encode()

    hooks.post_mailersend(client, body)
    hooks.post_mailersend(client, body)

    assert QuarantinedMessage.objects.count() == 1


def test_mail_without_a_usable_sender_is_quarantined_with_its_raw_bytes(client: Client) -> None:
    raw = hooks.customer_mail(sender="")

    hooks.post_signed(client, "mailgun", raw)
    run_worker()

    item = QuarantinedMessage.objects.get()
    assert bytes(item.raw) == raw
    assert item.channel == Channel.EMAIL
    assert item.source == f"provider:mailgun:{hooks.SUPPORT}"
    assert item.reason.startswith("unparseable: no usable sender")
    assert Message.objects.count() == 0


def test_the_customers_answer_to_our_mail_lands_on_the_same_thread(
    client: Client, agent: Agent
) -> None:
    hooks.post_signed(client, "mailgun", hooks.customer_mail())
    run_worker()
    question = Message.objects.get()
    ours = reply(agent, question.thread, text="Friday at 19:00 is booked for you.")
    deliver_outbound(ours.pk)
    ours.refresh_from_db()
    answer = hooks.customer_mail(
        body="Thank you!",
        message_id="booking-thanks-2@mail.example.net",
        in_reply_to=ours.external_id,
    )

    hooks.post_signed(client, "mandrill", answer)
    run_worker()

    stored = Message.objects.get(external_id="booking-thanks-2@mail.example.net")
    assert (stored.case_id, stored.thread_id) == (question.case_id, question.thread_id)


def test_a_third_partys_answer_lands_on_their_thread_not_the_customers(
    client: Client, agent: Agent
) -> None:
    hooks.post_signed(client, "mailgun", hooks.customer_mail())
    run_worker()
    question = Message.objects.get()
    vendor_thread = make_third_party_thread(
        agent, question.case, name="Harbour Restaurant", channel=Channel.EMAIL
    )
    assert vendor_thread.contact is not None
    vendor_thread.contact.identities.create(kind="email", value="bookings@restaurant.example.com")
    ours = reply(agent, vendor_thread, text="Do you have a table for six on Monday?")
    deliver_outbound(ours.pk)
    ours.refresh_from_db()
    answer = hooks.customer_mail(
        body="Yes, 20:00 is free.",
        sender="Harbour Restaurant <bookings@restaurant.example.com>",
        message_id="table-yes@restaurant.example.com",
        in_reply_to=ours.external_id,
    )

    hooks.post_signed(client, "mailersend", answer)
    run_worker()

    stored = Message.objects.get(external_id="table-yes@restaurant.example.com")
    assert stored.thread_id == vendor_thread.pk
    assert stored.case_id == question.case_id


def test_a_reply_to_the_threads_reply_address_keeps_the_mailbox_of_the_source(
    client: Client, agent: Agent, support_team: Team
) -> None:
    to = f"support+{'a' * 12}@help.example.org"

    hooks.post_signed(client, "mailgun", hooks.customer_mail(to=to), recipient=to)
    run_worker()

    assert Delivery.objects.get().source == f"provider:mailgun:{hooks.SUPPORT}"
    assert Message.objects.get().case.team == support_team


REPLAYED = [
    "flanker_fixtures/fixtures/messages/mailformed-headers.eml",
    "nodemailer_mailparser/fixtures/mixed.eml",
    "php_mime_mail_parser/mails/m0001",
    "php_mime_mail_parser/mails/m0010",
    "ruby_mail_fixtures/emails/plain_emails/basic_email.eml",
    "ruby_mail_fixtures/emails/multi_charset/japanese_iso_2022.eml",
    "mail_mime_parser_zbateson/_data/emails/m0001.txt",
    "mail_mime_parser_zbateson/_data/emails/m1005.txt",
    "mail_parser_spamscope/mails/mail_malformed_1",
    "talon_fixtures/fixtures/standard_replies/android.eml",
]


def _replayed(name: str) -> Path:
    return DATASETS / name


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", REPLAYED)
def test_real_mail_replayed_through_a_provider_ends_as_a_message_or_quarantined(
    client: Client, provider: str, name: str
) -> None:
    raw = _replayed(name).read_bytes()

    response = hooks.post_signed(client, provider, raw)
    outcomes = run_worker()

    assert response.status_code == 200
    assert outcomes == [deliveries.Outcome.PROCESSED]
    assert Message.objects.count() + QuarantinedMessage.objects.count() == 1
