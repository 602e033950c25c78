"""Send an outbound message as email through Django's configured EMAIL_BACKEND (SMTP).

The headers are what brings the customer's answer back to the same thread: ingest
threads a reply by its In-Reply-To and References against Message.external_id, then
by the reply token in the address it was sent to, then by the "[#<case id>]" subject
token. So the mail carries all three: a Message-ID stored (bare) as the message's
external id, a Reply-To of support+<reply token>@domain, and the case token.
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, make_msgid, parseaddr

from anymail.exceptions import AnymailConfigurationError, AnymailError
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives

from kiwidesk.cases.models import Direction, Message, Thread
from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.email.providers import send_error
from kiwidesk.contacts.models import IdentityKind

# Mail clients show and thread on the newest ids; a long conversation must not grow
# the header without bound (RFC 5322 §3.6.4 allows trimming the middle).
MAX_REFERENCES = 20
REPLY_PREFIX = "Re: "


def send(message: Message) -> str:
    """Mail `message` to its thread's contact; return its Message-ID without angle brackets.

    Raises SendError: permanent when the contact has no address or the server
    refuses with a 5xx code, transient when the server is unreachable or answers 4xx.
    """
    thread = message.thread
    sender_name, sender_address = _sender(thread)
    domain = sender_address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    references = _references(message)
    headers = {"Message-ID": message_id}
    if references:
        headers["In-Reply-To"] = f"<{references[-1]}>"
        headers["References"] = " ".join(f"<{ref}>" for ref in references)
    mail = EmailMultiAlternatives(
        subject=subject(thread, is_reply=bool(references) or _has_inbound(message)),
        body=message.body_text,
        from_email=formataddr((sender_name, sender_address)),
        to=[_recipient(thread)],
        reply_to=[reply_address(sender_address, thread.reply_token or "")],
        headers=headers,
    )
    if message.body_html:
        mail.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as stored:
            mail.attach(attachment.filename, stored.read(), attachment.content_type)
    deliver(mail)
    return message_id.strip("<>")


def subject(thread: Thread, *, is_reply: bool) -> str:
    """The thread's subject with the case token, "Re: " first when answering the party."""
    text = " ".join((thread.subject or thread.case.subject).split())
    token = f"[#{thread.case_id}]"
    if token not in text:
        text = f"{text} {token}"
    if is_reply and not text.lower().startswith("re:"):
        text = REPLY_PREFIX + text
    return text


def reply_address(address: str, token: str) -> str:
    """support+<token>@domain: the address the email adapter reads a reply token from."""
    local, _, domain = address.partition("@")
    if not token:
        return address
    return f"{local.partition('+')[0]}+{token}@{domain}"


def _sender(thread: Thread) -> tuple[str, str]:
    team = thread.case.team
    if team is not None and team.email:
        return team.name, team.email
    name, address = parseaddr(settings.KIWIDESK_EMAIL_FROM)
    return name, address


def _recipient(thread: Thread) -> str:
    identity = None
    if thread.contact is not None:
        identity = (
            thread.contact.identities.filter(kind=IdentityKind.EMAIL)
            .order_by("-is_primary", "id")
            .first()
        )
    if identity is None:
        raise SendError(
            f"The contact of thread {thread.pk} has no email address.", is_permanent=True
        )
    return formataddr((thread.contact.name if thread.contact else "", identity.value))


def _references(message: Message) -> list[str]:
    earlier = (
        Message.objects.filter(thread_id=message.thread_id, created_at__lte=message.created_at)
        .exclude(pk=message.pk)
        .exclude(direction=Direction.NOTE)
        .exclude(external_id="")
        .order_by("created_at", "id")
        .values_list("external_id", flat=True)
    )
    return list(earlier)[-MAX_REFERENCES:]


def _has_inbound(message: Message) -> bool:
    return Message.objects.filter(
        thread_id=message.thread_id, direction=Direction.INBOUND, created_at__lte=message.created_at
    ).exists()


def deliver(mail: EmailMessage) -> None:
    """Hand `mail` to the configured backend (SMTP or an anymail provider).

    Raises SendError: permanent when the server or provider refuses for good (a
    refused recipient, a 5xx), transient when it could not be reached.
    """
    try:
        mail.send(fail_silently=False)
    # Before OSError: an anymail API error is also a requests (so an OS) error.
    except AnymailError as exc:
        raise send_error(exc) from exc
    except AnymailConfigurationError as exc:
        raise SendError(f"The mail provider is not configured: {exc}", is_permanent=True) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(
            f"The mail server refused the recipient: {exc.recipients}",
            is_permanent=all(code >= 500 for code in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        reason = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise SendError(
            f"The mail server refused the message ({exc.smtp_code}): {reason}",
            is_permanent=exc.smtp_code >= 500,
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"The mail server could not be reached: {exc}", is_permanent=False) from exc
