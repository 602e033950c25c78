"""Proving an address: a one-time code mailed to it, typed back in the chat.

Until the visitor types the code, the chat stays on its placeholder contact, so
nobody can pose as a known customer by typing their address: the agent sees the
claim marked "not verified", and no transcript or reply goes to it. The right code
joins the chat to the address's contact (`join_contact`).

The code is sent in the request, not by a task, so it never rests in plain text in
the task queue; the database keeps only its HMAC under the secret key.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from kiwidesk.cases.services import move_thread_to_contact
from kiwidesk.channels.email.outbound import deliver
from kiwidesk.channels.webchat import services, transcript
from kiwidesk.channels.webchat.models import ChatSession, EmailCode
from kiwidesk.contacts.models import Contact, Identity, IdentityKind
from kiwidesk.contacts.services import (
    InvalidIdentityError,
    find_or_create_contact,
    normalise_identity,
)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
# A visitor may mistype their address once or twice; more codes per session, or to one
# address from many sessions, is someone using the desk to mail a stranger.
CODES_PER_SESSION = 3
CODES_PER_ADDRESS = 5
CODES_WINDOW = timedelta(hours=1)


class TooManyCodesError(ValueError):
    """The session (or the address) was sent as many codes as CODES_WINDOW allows."""


class NoCodeError(ValueError):
    """The visitor typed a code without asking for one."""


class CodeExpiredError(ValueError):
    """The code is older than CODE_LIFETIME."""


class TooManyTriesError(ValueError):
    """MAX_TRIES wrong codes: only a new code can confirm the address now."""


class WrongCodeError(ValueError):
    """The code typed is not the one mailed."""

    def __init__(self, tries_left: int) -> None:
        if tries_left:
            message = f"That code is not right; {tries_left} tries left."
        else:
            message = "That code is not right, and that was the last try: ask for a new code."
        super().__init__(message)
        self.tries_left = tries_left


def request_email_code(
    session: ChatSession, *, email: str, name: str = "", at: datetime | None = None
) -> EmailCode:
    """Mail a new code to the address the visitor gave; it replaces any earlier code.

    Raises InvalidIdentityError for a malformed address, ChatEndedError, and
    TooManyCodesError; SendError (permanent or not) when the mail does not go.
    """
    if session.has_ended:
        raise services.ChatEndedError("This chat has ended; start a new one.")
    address = mail_address(email)
    at = at or timezone.now()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        # The session row lock makes the count and the insert one step per session.
        ChatSession.objects.select_for_update().filter(pk=session.pk).first()
        _check_code_limits(session, address, since=at - CODES_WINDOW)
        pending = EmailCode.objects.create(
            session=session,
            address=address,
            name=" ".join(name.split())[:200],
            code_hash=_hash(session, address, code),
            created_at=at,
            expires_at=at + CODE_LIFETIME,
        )
    # After commit: a row that exists but whose mail failed only costs one of the
    # session's codes; a mail whose row rolled back could never be confirmed.
    deliver(_code_mail(session, address, code))
    return pending


def confirm_email_code(
    session: ChatSession, *, code: str, at: datetime | None = None
) -> ChatSession:
    """Join the chat to the address of the session's newest code if `code` is that code.

    Every try counts (a conditional UPDATE, so parallel guesses cannot exceed
    MAX_TRIES). Confirming twice is harmless. Raises NoCodeError, CodeExpiredError,
    TooManyTriesError, WrongCodeError or ChatEndedError.
    """
    if session.has_ended:
        raise services.ChatEndedError("This chat has ended; start a new one.")
    at = at or timezone.now()
    pending = session.email_codes.order_by("-created_at", "-id").first()
    if pending is None:
        raise NoCodeError("Ask for a code first: give your email address.")
    if pending.confirmed_at is not None and session.email == pending.address:
        return session
    if at >= pending.expires_at:
        raise CodeExpiredError("This code has expired; ask for a new one.")
    tried = EmailCode.objects.filter(
        pk=pending.pk, attempts__lt=MAX_TRIES, confirmed_at__isnull=True
    ).update(attempts=F("attempts") + 1)
    if tried != 1:
        raise TooManyTriesError("Too many wrong codes; ask for a new one.")
    if not constant_time_compare(_hash(session, pending.address, code), pending.code_hash):
        raise WrongCodeError(tries_left=MAX_TRIES - pending.attempts - 1)
    with transaction.atomic():
        EmailCode.objects.filter(pk=pending.pk).update(confirmed_at=at)
        return join_contact(session, email=pending.address, name=pending.name)


def join_contact(session: ChatSession, *, email: str, name: str = "") -> ChatSession:
    """Give the chat to the contact who owns `email`, an address the visitor proved is theirs.

    Callers confirm the address first (confirm_email_code): the thread,
    the case's customer and the visitor's messages move to that contact, and the
    transcript and later replies go to the address. A returning customer's chat so
    lands on their contact; an unknown address becomes a new contact. The session's
    placeholder contact is removed in the same transaction when nothing else refers
    to it. Raises InvalidIdentityError for a malformed address.
    """
    if session.has_ended:
        raise services.ChatEndedError("This chat has ended; start a new one.")
    address = mail_address(email)
    name = " ".join(name.split())[:200]
    with transaction.atomic():
        contact = find_or_create_contact(IdentityKind.EMAIL, address, name=name)
        if session.thread is not None:
            placeholder_id = session.thread.contact_id
            move_thread_to_contact(session.thread, contact=contact)
            if placeholder_id is not None and placeholder_id != contact.pk:
                remove_placeholder_contact(placeholder_id)
        session.email = address
        session.name = name or session.name
        session.save(update_fields=["email", "name"])
    return session


def mail_address(email: str) -> str:
    """The normalised address, or InvalidIdentityError (also for a chat placeholder)."""
    address = normalise_identity(IdentityKind.EMAIL, email)
    if address.endswith("@" + services.PLACEHOLDER_DOMAIN):
        raise InvalidIdentityError(f"{email!r} cannot receive mail")
    return address


def remove_placeholder_contact(contact_id: int) -> bool:
    """Delete a "Web chat visitor" contact nothing refers to any more; True if it went.

    A contact with any real identity, or anything pointing at it (a thread, a case, a
    message, any table added later), stays: every relation to Contact is checked,
    not a list that could go stale.
    """
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return False
    values = list(contact.identities.values_list("value", flat=True))
    if not values or any(not value.endswith("@" + services.PLACEHOLDER_DOMAIN) for value in values):
        return False
    if _is_referenced(contact):
        return False
    contact.delete()
    return True


def _is_referenced(contact: Contact) -> bool:
    for relation in Contact._meta.related_objects:
        if relation.related_model is Identity:
            continue
        manager = relation.related_model._default_manager
        if manager.filter(**{relation.field.name: contact}).exists():
            return True
    return False


def unconfirmed_claim(session: ChatSession) -> str:
    """The address the visitor says is theirs but has not confirmed ("" if none)."""
    pending = session.email_codes.order_by("-created_at", "-id").first()
    if pending is None or pending.address == session.email:
        return ""
    return pending.address


def _check_code_limits(session: ChatSession, address: str, *, since: datetime) -> None:
    if session.email_codes.filter(created_at__gte=since).count() >= CODES_PER_SESSION:
        raise TooManyCodesError(
            f"At most {CODES_PER_SESSION} codes an hour; check your inbox and spam folder."
        )
    if EmailCode.objects.filter(address=address, created_at__gte=since).count() >= (
        CODES_PER_ADDRESS
    ):
        raise TooManyCodesError("Too many codes went to this address; try again in an hour.")


def _hash(session: ChatSession, address: str, code: str) -> str:
    # Keyed and bound to the session and address: a copy of the table alone does not
    # give the codes (a million guesses would, for a plain hash of six digits).
    value = f"{session.public_id}:{address}:{code}"
    return salted_hmac("kiwidesk.webchat.email-code", value, algorithm="sha256").hexdigest()


def _code_mail(session: ChatSession, address: str, code: str) -> EmailMessage:
    name, sender = transcript.sender(session)
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    return EmailMessage(
        subject=f"{code} is your chat code",
        body=(
            f"Your code is {code}.\n"
            "\n"
            f"Type it in the chat to confirm this is your address. It expires in "
            f"{minutes} minutes.\n"
            "\n"
            "If you did not ask for it, ignore this mail: without the code, nothing "
            "happens."
        ),
        from_email=formataddr((name, sender)),
        to=[address],
        headers={
            "Message-ID": make_msgid(domain=sender.rpartition("@")[2] or "localhost"),
            "Auto-Submitted": "auto-generated",
        },
    )
