from __future__ import annotations

import pytest

from kiwidesk.channels.email.adapter import parse
from tests.channels.email.mail import SOURCE, parsed


@pytest.mark.parametrize(
    "fixture",
    [
        "auto_reply.eml",  # Auto-Submitted: auto-replied (RFC 3834)
        "x_autoreply.eml",
        "precedence_bulk.eml",
        "bounce.eml",  # multipart/report from MAILER-DAEMON
    ],
)
def test_auto_replies_bounces_and_bulk_mail_are_automated(fixture: str) -> None:
    message = parsed(fixture)

    assert message.is_automated is True


def test_auto_submitted_no_is_a_person_writing() -> None:
    message = parsed("auto_submitted_no.eml")

    assert message.is_automated is False


def test_ordinary_mail_is_not_automated() -> None:
    message = parsed("reply_with_token.eml")

    assert message.is_automated is False


@pytest.mark.parametrize("sender", ["postmaster@example.org", "MAILER-DAEMON@example.org"])
def test_mail_from_the_mail_system_is_automated(sender: str) -> None:
    mail = f"From: {sender}\nSubject: Delivery failed\n\nIt bounced.\n".encode()

    message = parse(mail, SOURCE)

    assert message.is_automated is True


@pytest.mark.parametrize("precedence", ["bulk", "junk", "list", "auto_reply"])
def test_precedence_of_bulk_kinds_is_automated(precedence: str) -> None:
    mail = f"From: news@example.org\nPrecedence: {precedence}\n\nNews.\n".encode()

    message = parse(mail, SOURCE)

    assert message.is_automated is True
