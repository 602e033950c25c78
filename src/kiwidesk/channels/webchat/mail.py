"""Sending the chat's own mail (the transcript, an address check) through Django's backend."""

from __future__ import annotations

import smtplib

from anymail.exceptions import AnymailConfigurationError, AnymailError
from django.core.mail import EmailMessage

from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.email.providers import send_error


def deliver(mail: EmailMessage, *, recipient: str) -> None:
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
    except smtplib.SMTPResponseException as exc:
        raise SendError(
            f"The mail server refused the mail: {exc}", is_permanent=exc.smtp_code >= 500
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"The mail server refused {recipient}.", is_permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"The mail server could not be reached: {exc}", is_permanent=False) from exc
