"""A customer with distinctive details who writes in on every channel, and agents who answer.

Everything goes through the paths production uses: a raw mail through the importer,
SMS and WhatsApp through Twilio's signed webhook, a web chat through its services, a
call logged by an agent with the provider's transcript.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from django.core import mail
from django.test import Client

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Call, CallOutcome, Case, Channel, Direction, Party, Thread
from kiwidesk.cases.services import (
    CallDetails,
    add_note,
    attach_transcript,
    log_call,
    reply,
    update_case,
)
from kiwidesk.channels.email.importer import import_message
from kiwidesk.channels.webchat import services as chat
from kiwidesk.channels.webchat import verification
from kiwidesk.channels.whatsapp.models import MessageTemplate
from kiwidesk.channels.whatsapp.templates import send_template
from kiwidesk.contacts.models import Contact, IdentityKind, Organisation
from kiwidesk.contacts.services import add_contact
from kiwidesk.ingest.services import quarantine
from tests.channels.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MESSAGES_PATH,
    SUPPORT_NUMBER,
    form,
    post_signed,
    sms_form,
)

NAME = "Zebulon Quartermaine"
EMAIL = "zebulon.quartermaine@erasure-test.example"
PHONE = "+447700900461"
# What must be gone after the erasure, searched case-insensitively everywhere.
ERASED_VALUES = (NAME, "Zebulon", "Quartermaine", EMAIL, "erasure-test.example", PHONE, PHONE[1:])
MAIL_SOURCE = "file:///var/mail/support"
SITE = "https://www.customer-site.test"
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def configure(settings: Any) -> None:
    """The channel settings the story's webhooks and chat need."""
    settings.TASKS = IMMEDIATE_TASKS
    settings.KIWIDESK_TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.KIWIDESK_TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.KIWIDESK_TWILIO_SMS_FROM = SUPPORT_NUMBER
    settings.KIWIDESK_TWILIO_WHATSAPP_FROM = SUPPORT_NUMBER
    settings.KIWIDESK_PUBLIC_URL = ""
    settings.KIWIDESK_CHAT_ORIGINS = [SITE]
    settings.KIWIDESK_EMAIL_FROM = "Kiwidesk <support@kiwidesk.test>"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass(frozen=True)
class Story:
    contact: Contact
    mail_case: Case
    call: Call


def customer_writes_in_everywhere(client: Client, agent: Agent, team: Team) -> Story:
    contact = add_contact(
        [(IdentityKind.EMAIL, EMAIL), (IdentityKind.PHONE, PHONE), (IdentityKind.WHATSAPP, PHONE)],
        name=NAME,
        organisation=Organisation.objects.create(name="Harbourside Clinic"),
    )
    Contact.objects.filter(pk=contact.pk).update(notes=f"{NAME} prefers a call back.")
    mail_case = _mail_with_attachment(agent)
    _sms_and_whatsapp(client, agent)
    _web_chat(team)
    call = _logged_call(agent, contact)
    quarantine(
        f"From: {NAME} <{EMAIL}>\r\n\r\nbroken".encode(),
        channel=Channel.EMAIL,
        source=MAIL_SOURCE,
        reason=f"unroutable mail from {EMAIL}",
    )
    return Story(contact=contact, mail_case=mail_case, call=call)


def _mail_with_attachment(agent: Agent) -> Case:
    message = EmailMessage()
    message["From"] = formataddr((NAME, EMAIL))
    message["To"] = "support@kiwidesk.test"
    message["Subject"] = f"Refund for {NAME}"
    message["Message-ID"] = make_msgid(domain="mail.example")
    message.set_content(f"Hello, this is {NAME}. Call me on {PHONE} or write to {EMAIL}.")
    message.add_attachment(
        f"Passport of {NAME}\n".encode(),
        maintype="text",
        subtype="plain",
        filename="quartermaine-passport.txt",
    )
    result = import_message(
        message.as_bytes(), source=MAIL_SOURCE, team=None, enforce_rate_limit=False
    )
    assert result is not None
    case = result.message.case
    reply(agent, result.message.thread, text=f"Dear {NAME}, your refund is on its way.")
    add_note(agent, case, text=f"Checked {NAME}'s booking; {PHONE} confirmed.")
    update_case(agent, case, {"subject": f"{NAME}: refund sent"})
    return case


def _sms_and_whatsapp(client: Client, agent: Agent) -> None:
    post_signed(
        client,
        MESSAGES_PATH,
        sms_form(From=PHONE, body=f"{NAME} here, is my booking on?", sid="SM" + "1" * 32),
    )
    body = form(
        MessageSid="SM" + "2" * 32,
        AccountSid=ACCOUNT_SID,
        From=f"whatsapp:{PHONE}",
        To=f"whatsapp:{SUPPORT_NUMBER}",
        Body=f"WhatsApp from {NAME}",
        ProfileName=NAME,
        WaId=PHONE[1:],
        NumMedia="0",
    )
    post_signed(client, MESSAGES_PATH, body)
    whatsapp = Thread.objects.get(channel=Channel.WHATSAPP, party=Party.CUSTOMER)
    template = MessageTemplate.objects.create(
        name="booking_reminder", body="Hello {{1}}, your booking {{2}} is confirmed."
    )
    send_template(agent, whatsapp, template, [NAME, "BK-4417"])


def _web_chat(team: Team) -> None:
    started = chat.start_session(team_slug=team.slug, origin=SITE, client_address="203.0.113.7")
    chat.post_message(started.session, client_id="c1", text=f"Hi, it is {NAME} again")
    mail.outbox.clear()
    verification.request_email_code(started.session, email=EMAIL, name=NAME)
    code = mail.outbox[-1].subject.split()[0]
    verification.confirm_email_code(started.session, code=code)
    chat.end_session(started.session)


def _logged_call(agent: Agent, contact: Contact) -> Call:
    thread = Thread.objects.filter(contact=contact, channel=Channel.SMS).first()
    assert thread is not None
    call = log_call(
        agent,
        thread,
        details=CallDetails(
            direction=Direction.INBOUND, outcome=CallOutcome.ANSWERED, duration_seconds=95
        ),
        notes=f"{NAME} called about the refund.",
    )
    return attach_transcript(call, text=f"Caller: This is {NAME}, my number is {PHONE}.")
