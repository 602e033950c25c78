"""A visitor proves the address they give with a code mailed to it before the chat joins it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case, DeliveryStatus, Event, EventKind
from kiwidesk.cases.outbox import SendError
from kiwidesk.cases.services import deliver_outbound, reply
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.models import ChatSession, EmailCode
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.channels.email.test_providers_outbound import (  # noqa: F401 -- fixtures
    mandrill,
    provider_api,
)
from tests.channels.webchat.conftest import mailed_code
from tests.factories.cases import make_case

ADDRESS = "clinician@example.org"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_giving_an_address_mails_a_six_digit_code_kept_only_as_a_keyed_hash(
    chat: ChatSession, mailoutbox: list
):
    verification.request_email_code(chat, email="Clinician@Example.org")

    [mail] = mailoutbox
    code = mailed_code(mail)
    stored = EmailCode.objects.get()
    assert (len(code), code.isdigit()) == (6, True)
    assert mail.to == [ADDRESS]
    assert mail.from_email == "Kiwidesk <support@kiwidesk.test>"
    assert mail.extra_headers["Auto-Submitted"] == "auto-generated"
    assert f"Your code is {code}." in mail.body
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)


def test_until_the_code_is_typed_the_chat_stays_on_its_placeholder_contact(
    chat: ChatSession, mailoutbox: list
):
    known = find_or_create_contact(IdentityKind.EMAIL, ADDRESS, name="Dr Known")
    entry = services.post_message(chat, client_id="m1", text="Show me my notes")

    verification.request_email_code(chat, email=ADDRESS)

    chat.refresh_from_db()
    assert chat.email == ""
    assert Case.objects.get().customer != known
    assert entry.message.thread.contact.name == "Web chat visitor"
    assert verification.unconfirmed_claim(chat) == ADDRESS


def test_the_right_code_joins_the_chat_to_the_known_customer(chat: ChatSession, mailoutbox: list):
    known = find_or_create_contact(IdentityKind.EMAIL, ADDRESS, name="Dr Known")
    services.post_message(chat, client_id="m1", text="The screen froze again")
    verification.request_email_code(chat, email=ADDRESS)

    verification.confirm_email_code(chat, code=mailed_code(mailoutbox[0]))

    chat.refresh_from_db()
    assert chat.email == ADDRESS
    assert Case.objects.get().customer == known
    assert chat.thread.contact == known
    assert verification.unconfirmed_claim(chat) == ""


def test_a_confirmed_known_customer_leaves_no_placeholder_contact_behind(
    chat: ChatSession, mailoutbox: list
):
    known = find_or_create_contact(IdentityKind.EMAIL, ADDRESS, name="Dr Known")
    services.post_message(chat, client_id="m1", text="Hello?")
    verification.request_email_code(chat, email=ADDRESS)

    verification.confirm_email_code(chat, code=mailed_code(mailoutbox[0]))

    assert list(Contact.objects.all()) == [known]


def test_a_placeholder_contact_something_else_refers_to_is_kept(chat: ChatSession):
    entry = services.post_message(chat, client_id="m1", text="Hello?")
    placeholder = entry.message.thread.contact
    make_case(customer=placeholder, subject="Opened by an agent for this visitor")

    verification.join_contact(chat, email=ADDRESS)

    assert Contact.objects.filter(pk=placeholder.pk).exists()


def test_a_real_contact_the_chat_moves_away_from_is_kept(chat: ChatSession):
    services.post_message(chat, client_id="m1", text="Hello?")
    verification.join_contact(chat, email="first@example.org", name="First Address")

    verification.join_contact(chat, email=ADDRESS, name="Second Address")

    assert sorted(Contact.objects.values_list("name", flat=True)) == [
        "First Address",
        "Second Address",
    ]


def test_a_wrong_code_says_how_many_tries_are_left(chat: ChatSession, mailoutbox: list):
    verification.request_email_code(chat, email=ADDRESS)

    with pytest.raises(verification.WrongCodeError, match="not right; 4 tries left"):
        verification.confirm_email_code(chat, code=wrong(mailed_code(mailoutbox[0])))

    chat.refresh_from_db()
    assert chat.email == ""


def test_after_five_wrong_codes_even_the_right_one_is_refused(chat: ChatSession, mailoutbox: list):
    verification.request_email_code(chat, email=ADDRESS)
    code = mailed_code(mailoutbox[0])
    for _ in range(verification.MAX_TRIES):
        with pytest.raises(verification.WrongCodeError):
            verification.confirm_email_code(chat, code=wrong(code))

    with pytest.raises(verification.TooManyTriesError):
        verification.confirm_email_code(chat, code=code)

    chat.refresh_from_db()
    assert chat.email == ""
    assert EmailCode.objects.get().attempts == verification.MAX_TRIES


def test_an_expired_code_is_refused(chat: ChatSession, mailoutbox: list):
    verification.request_email_code(chat, email=ADDRESS)
    later = timezone.now() + timedelta(minutes=10, seconds=1)

    with pytest.raises(verification.CodeExpiredError, match="expired; ask for a new one"):
        verification.confirm_email_code(chat, code=mailed_code(mailoutbox[0]), at=later)

    chat.refresh_from_db()
    assert chat.email == ""


def test_a_new_code_replaces_the_earlier_one(chat: ChatSession, mailoutbox: list):
    verification.request_email_code(chat, email="typo@example.org")
    verification.request_email_code(chat, email=ADDRESS)

    with pytest.raises(verification.WrongCodeError):
        verification.confirm_email_code(chat, code=mailed_code(mailoutbox[0]))
    verification.confirm_email_code(chat, code=mailed_code(mailoutbox[1]))

    chat.refresh_from_db()
    assert chat.email == ADDRESS


def test_confirming_twice_is_harmless(chat: ChatSession, mailoutbox: list):
    verification.request_email_code(chat, email=ADDRESS)
    code = mailed_code(mailoutbox[0])
    verification.confirm_email_code(chat, code=code)

    again = verification.confirm_email_code(chat, code=code)

    assert again.email == ADDRESS
    assert EmailCode.objects.get().attempts == 1


def test_a_code_typed_before_one_was_asked_for_is_refused(chat: ChatSession):
    with pytest.raises(verification.NoCodeError, match="Ask for a code first"):
        verification.confirm_email_code(chat, code="123456")


def test_a_chat_gets_at_most_three_codes_an_hour(chat: ChatSession, mailoutbox: list):
    for number in range(verification.CODES_PER_SESSION):
        verification.request_email_code(chat, email=f"try{number}@example.org")

    with pytest.raises(verification.TooManyCodesError, match="At most 3 codes an hour"):
        verification.request_email_code(chat, email=ADDRESS)

    assert len(mailoutbox) == verification.CODES_PER_SESSION


def test_one_address_gets_at_most_five_codes_an_hour_from_any_chat(team, mailoutbox: list):
    for _ in range(verification.CODES_PER_ADDRESS):
        session = services.start_session(team_slug=team.slug, origin="").session
        verification.request_email_code(session, email=ADDRESS)
    another = services.start_session(team_slug=team.slug, origin="").session

    with pytest.raises(verification.TooManyCodesError, match="Too many codes went to this"):
        verification.request_email_code(another, email=ADDRESS)

    assert len(mailoutbox) == verification.CODES_PER_ADDRESS


def test_an_unconfirmed_address_gets_no_transcript(
    chat: ChatSession, mailoutbox: list, django_capture_on_commit_callbacks
):
    services.post_message(chat, client_id="m1", text="Hello?")
    verification.request_email_code(chat, email=ADDRESS)

    with django_capture_on_commit_callbacks(execute=True):
        services.end_session(chat)

    assert [mail.subject.endswith("is your chat code") for mail in mailoutbox] == [True]
    assert Event.objects.get(kind=EventKind.CHAT_ENDED).payload["transcript_to"] == ""


def test_a_reply_after_an_unconfirmed_visitor_left_is_not_mailed_to_the_claimed_address(
    chat: ChatSession, agent: Agent, mailoutbox: list
):
    asked = services.post_message(chat, client_id="m1", text="Can you help?")
    verification.request_email_code(chat, email=ADDRESS)
    services.end_session(chat)
    answer = reply(agent, asked.message.thread, text="Here are your notes.")

    outcome = deliver_outbound(answer.pk)

    assert outcome.status == DeliveryStatus.FAILED
    assert len(mailoutbox) == 1


def test_a_code_the_mail_server_cannot_take_now_is_a_transient_failure(chat: ChatSession, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    with pytest.raises(SendError, match="could not be reached") as refused:
        verification.request_email_code(chat, email=ADDRESS)

    assert refused.value.is_permanent is False


def test_a_code_to_a_recipient_the_mail_provider_rejects_fails_for_good(
    chat: ChatSession,
    mandrill,  # noqa: F811 -- the fixture imported above
):
    mandrill.answer = [
        {"email": ADDRESS, "status": "rejected", "_id": "abc", "reject_reason": "hard-bounce"}
    ]

    with pytest.raises(SendError, match="The mail provider refused the recipient") as refused:
        verification.request_email_code(chat, email=ADDRESS)

    assert refused.value.is_permanent is True
