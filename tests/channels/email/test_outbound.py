"""Outbound email through a real SMTP server (aiosmtpd on 127.0.0.1), and the reply coming back."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Channel, DeliveryStatus, Event, EventKind, Message, Thread
from kiwidesk.cases.services import deliver_outbound, open_thread, reply
from kiwidesk.channels.email import adapter, outbound
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.ingest.services import IngestResult, ingest

pytestmark = pytest.mark.django_db

SUPPORT = "support@help.example.org"
CUSTOMER = "ana.customer@example.net"
SOURCE = "imap://support@help.example.org/INBOX"
CUSTOMER_MESSAGE_ID = "booking-question-1@mail.example.net"


class Mailbox:
    """An SMTP server's handler: keeps each message it accepts, or refuses recipients."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.rcpt_answer = ""

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def only_message(self) -> EmailMessage:
        (envelope,) = self.received
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.KIWIDESK_EMAIL_FROM = f"Harbour Help <{SUPPORT}>"
    yield mailbox
    controller.stop()


def customer_mail(
    *,
    subject: str = "Booking for Friday",
    body: str = "Can you move my booking to Friday?",
    message_id: str = CUSTOMER_MESSAGE_ID,
    to: str = SUPPORT,
    in_reply_to: str = "",
    references: str = "",
) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Ana Customer <{CUSTOMER}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    mail.set_content(body)
    return mail.as_bytes()


def received(raw: bytes) -> IngestResult:
    return ingest(adapter.parse(raw, SOURCE))


@pytest.fixture
def question() -> IngestResult:
    """The customer's first mail, stored on a new case."""
    return received(customer_mail())


def answer(agent: Agent, thread: Thread, **extra: Any) -> Message:
    message = reply(agent, thread, text="Friday at 19:00 is booked for you.", **extra)
    outcome = deliver_outbound(message.pk)
    assert outcome.status == DeliveryStatus.SENT
    message.refresh_from_db()
    return message


def test_the_reply_reaches_the_smtp_server_addressed_to_the_customer(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    answer(agent, question.thread)

    mail = smtp.only_message()
    assert smtp.received[0].mail_from == SUPPORT
    assert smtp.received[0].rcpt_tos == [CUSTOMER]
    assert mail["From"] == f"Harbour Help <{SUPPORT}>"
    assert mail["To"] == f"{question.thread.contact} <{CUSTOMER}>"
    assert mail.get_content().strip() == "Friday at 19:00 is booked for you."


def test_the_reply_carries_the_subject_with_the_case_token(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    answer(agent, question.thread)

    assert smtp.only_message()["Subject"] == f"Re: Booking for Friday [#{question.case.pk}]"


def test_the_message_id_is_stored_bare_as_the_external_id(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    message = answer(agent, question.thread)

    assert smtp.only_message()["Message-ID"] == f"<{message.external_id}>"
    assert message.external_id.endswith("@help.example.org")
    assert "<" not in message.external_id


def test_the_reply_refers_to_the_customers_mail(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    answer(agent, question.thread)

    mail = smtp.only_message()
    assert mail["In-Reply-To"] == f"<{CUSTOMER_MESSAGE_ID}>"
    assert mail["References"] == f"<{CUSTOMER_MESSAGE_ID}>"


def test_a_second_reply_refers_to_the_whole_conversation(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    first = answer(agent, question.thread)

    answer(agent, question.thread)

    second = message_from_bytes(smtp.received[1].original_content or b"", policy=policy.default)
    assert second["In-Reply-To"] == f"<{first.external_id}>"
    assert second["References"] == f"<{CUSTOMER_MESSAGE_ID}> <{first.external_id}>"


def test_replies_go_to_the_threads_reply_address(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    answer(agent, question.thread)

    token = question.thread.reply_token
    assert smtp.only_message()["Reply-To"] == f"support+{token}@help.example.org"


def test_attachments_are_sent_with_the_reply(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    voucher = NewAttachment("voucher.pdf", "application/pdf", b"%PDF-1.4 voucher")

    answer(agent, question.thread, attachments=[voucher])

    (attached,) = list(smtp.only_message().iter_attachments())
    assert attached.get_filename() == "voucher.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == b"%PDF-1.4 voucher"


def test_the_customers_answer_to_our_mail_lands_on_the_same_thread(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    ours = answer(agent, question.thread)
    sent = smtp.only_message()
    # Subject without the token and sent to the plain address: only the headers route it.
    customers_answer = customer_mail(
        subject="Re: Booking for Friday",
        body=f"Perfect, thank you!\n\n> {sent.get_content().strip()}",
        message_id="booking-question-2@mail.example.net",
        in_reply_to=sent["Message-ID"],
        references=f"{sent['References']} {sent['Message-ID']}",
    )

    result = received(customers_answer)

    assert result.created_case is False
    assert (result.case.pk, result.thread.pk) == (question.case.pk, question.thread.pk)
    assert result.message.body_text == "Perfect, thank you!"
    assert ours.external_id in sent["Message-ID"]


def test_an_answer_without_threading_headers_comes_back_by_the_reply_address(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    answer(agent, question.thread)
    reply_to = str(smtp.only_message()["Reply-To"])

    result = received(
        customer_mail(
            subject="Friday", message_id=make_msgid(domain="mail.example.net")[1:-1], to=reply_to
        )
    )

    assert (result.case.pk, result.thread.pk) == (question.case.pk, question.thread.pk)


def test_a_teams_own_address_is_the_sender(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    team = Team.objects.create(name="Bookings", slug="bookings", email="bookings@help.example.org")
    question.case.team = team
    question.case.save(update_fields=["team"])

    answer(agent, question.thread)

    mail = smtp.only_message()
    assert mail["From"] == "Bookings <bookings@help.example.org>"
    assert mail["Reply-To"] == f"bookings+{question.thread.reply_token}@help.example.org"


def test_a_new_third_party_thread_opens_without_re(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    venue = find_or_create_contact(IdentityKind.EMAIL, "events@venue.example.com", name="Venue")
    thread = open_thread(
        agent, question.case, contact=venue, channel=Channel.EMAIL, subject="Table for Friday"
    )

    answer(agent, thread)

    mail = smtp.only_message()
    assert mail["Subject"] == f"Table for Friday [#{question.case.pk}]"
    assert mail["In-Reply-To"] is None


def test_a_recipient_the_server_refuses_for_good_fails_the_message(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    smtp.rcpt_answer = "550 5.1.1 No such user"
    message = reply(agent, question.thread, text="Friday is booked.")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    event = Event.objects.get(message=message, kind=EventKind.DELIVERY_UPDATED)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "550" in event.payload["error"]
    assert "No such user" in event.payload["error"]


def test_a_server_asking_to_try_later_leaves_the_message_for_a_retry(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    smtp.rcpt_answer = "451 4.3.0 Try again later"
    message = reply(agent, question.thread, text="Friday is booked.")

    outcome = deliver_outbound(message.pk)

    message.refresh_from_db()
    assert outcome.retry_at is not None
    assert message.delivery_status == DeliveryStatus.PENDING


def test_an_unreachable_server_leaves_the_message_for_a_retry(
    settings: Any, agent: Agent, question: IngestResult
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    message = reply(agent, question.thread, text="Friday is booked.")

    outcome = deliver_outbound(message.pk)

    message.refresh_from_db()
    assert outcome.retry_at is not None
    assert message.delivery_status == DeliveryStatus.PENDING


def test_a_contact_without_an_email_address_cannot_be_mailed(
    smtp: Mailbox, agent: Agent, question: IngestResult
) -> None:
    venue = find_or_create_contact(IdentityKind.PHONE, "+447700900555", name="Venue")
    thread = open_thread(agent, question.case, contact=venue, channel=Channel.EMAIL)
    message = reply(agent, thread, text="Friday?")

    deliver_outbound(message.pk)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert smtp.received == []


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param("Booking", "Re: Booking [#7]", id="plain"),
        pytest.param("Re: Booking", "Re: Booking [#7]", id="already-a-reply"),
        pytest.param("Booking [#7]", "Re: Booking [#7]", id="already-tokened"),
    ],
)
def test_the_subject_names_the_case_once_and_says_re_once(stored: str, expected: str) -> None:
    thread = Thread(subject=stored, case_id=7)

    assert outbound.subject(thread, is_reply=True) == expected


def test_the_email_sender_is_registered_for_the_email_channel() -> None:
    from kiwidesk.cases import outbox

    assert outbox.sender_for(Channel.EMAIL) is outbound.send
