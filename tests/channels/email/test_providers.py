"""The pure parts of the mail-provider channel: addresses, sources and send errors."""

from __future__ import annotations

import pytest
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)

from kiwidesk.channels.email import providers


@pytest.mark.parametrize(
    ("recipient", "mailbox"),
    [
        ("support@help.example.org", "support@help.example.org"),
        ("Support <Support@Help.Example.org>", "support@help.example.org"),
        ("support+Ab12Cd34Ef@help.example.org", "support@help.example.org"),
        ("", "unknown"),
        ("not an address", "unknown"),
        ("@help.example.org", "unknown"),
    ],
)
def test_the_mailbox_of_a_recipient_is_its_bare_lower_case_address(
    recipient: str, mailbox: str
) -> None:
    assert providers.mailbox_address(recipient) == mailbox


def test_mail_to_no_known_address_belongs_to_no_team() -> None:
    assert providers.team_for("provider:mailgun:unknown") is None


@pytest.mark.parametrize(
    "error",
    [
        AnymailRecipientsRefused("every recipient was rejected"),
        AnymailInvalidAddress("not an address"),
    ],
)
def test_a_refused_recipient_is_a_permanent_failure(error: AnymailError) -> None:
    failure = providers.send_error(error)

    assert failure.is_permanent is True
    assert str(failure).startswith("The mail provider refused the recipient")


def test_a_message_the_provider_cannot_take_is_a_permanent_failure() -> None:
    failure = providers.send_error(AnymailUnsupportedFeature("no AMP"))

    assert failure.is_permanent is True
    assert str(failure).startswith("The mail provider cannot send this message")


def test_no_answer_from_the_api_is_transient() -> None:
    failure = providers.send_error(AnymailAPIError("connection refused"))

    assert failure.is_permanent is False
    assert str(failure).startswith("The mail provider could not be reached")
