"""Mail providers (through django-anymail): inbound mail's bytes and team, and send errors.

A provider's inbound webhook is verified and read by anymail's own view
(provider_views.py); what reaches ingest is the mail's RFC 5322 bytes, stored as an
ingest Delivery and parsed in the worker by the same adapter as IMAP mail. The
source names the provider and the address the mail was sent to, so each of our
addresses dedupes like an IMAP mailbox and maps to the team whose address it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.utils import parseaddr
from typing import Any

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, EventType

from kiwidesk.accounts.models import Team
from kiwidesk.cases.outbox import SendError
from kiwidesk.channels.email.importer import import_message

# The ingest handler (Delivery.adapter) of mail that arrived through a provider.
HANDLER = "email-provider"
SOURCE_PREFIX = "provider"
UNKNOWN_RECIPIENT = "unknown"

# An API answer that says "later", not "never": timeout and rate limit.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})

# Headers as they came (no refolding), 8-bit text as UTF-8: the closest bytes to the
# original that a message anymail rebuilt from parsed fields can give.
_REBUILT = policy.default.clone(refold_source="none", utf8=True, linesep="\r\n")


@dataclass(frozen=True)
class Provider:
    """A mail provider whose inbound webhook anymail verifies with a signature.

    `raw_text` returns the mail exactly as the provider posted it, or None when the
    provider sent only parsed fields.
    """

    name: str
    raw_text: Callable[[AnymailInboundEvent], str | None]


@dataclass(frozen=True)
class InboundMail:
    """One mail a provider's webhook delivered: its bytes and the ingest source."""

    raw: bytes
    source: str


def _mailgun_raw(event: AnymailInboundEvent) -> str | None:
    # esp_event is the Django request; "body-mime" is there when the route's URL asks
    # for raw MIME (…/inbound/mime), otherwise only parsed fields were posted.
    raw: str | None = event.esp_event.POST.get("body-mime")
    return raw


def _mandrill_raw(event: AnymailInboundEvent) -> str | None:
    raw: str | None = event.esp_event["msg"].get("raw_msg")
    return raw


def _mailersend_raw(event: AnymailInboundEvent) -> str | None:
    raw: str | None = event.esp_event["data"].get("raw")
    return raw


PROVIDERS: dict[str, Provider] = {
    # HMAC-SHA256 of timestamp + token with the webhook signing key.
    "mailgun": Provider("mailgun", _mailgun_raw),
    # Base64 HMAC-SHA1 of the webhook URL and the sorted POST fields with the webhook key.
    "mandrill": Provider("mandrill", _mandrill_raw),
    # HMAC-SHA256 of the body with the inbound route's secret.
    "mailersend": Provider("mailersend", _mailersend_raw),
}


def inbound_mail(provider: Provider, events: list[Any]) -> list[InboundMail]:
    """The inbound mail among a webhook's parsed events (tracking events are not mail)."""
    return [
        InboundMail(raw=raw_bytes(provider, event), source=source_for(provider.name, event))
        for event in events
        if isinstance(event, AnymailInboundEvent) and event.event_type == EventType.INBOUND
    ]


def raw_bytes(provider: Provider, event: AnymailInboundEvent) -> bytes:
    """The mail's RFC 5322 bytes: as posted when the provider sent them, else rebuilt."""
    text = provider.raw_text(event)
    if text:
        # Providers post the mail as text; surrogateescape gives back any byte a
        # lenient decoder kept as a lone surrogate instead of failing on it.
        return text.encode("utf-8", "surrogateescape")
    message: AnymailInboundMessage = event.message
    rebuilt: bytes = message.as_bytes(policy=_REBUILT)
    return rebuilt


def source_for(provider: str, event: AnymailInboundEvent) -> str:
    """`provider:<name>:<our address>`: the envelope recipient, else the first To."""
    message: AnymailInboundMessage = event.message
    recipient = message.envelope_recipient or ""
    if not recipient and message.to:
        recipient = message.to[0].addr_spec
    return f"{SOURCE_PREFIX}:{provider}:{mailbox_address(recipient)}"[:255]


def mailbox_address(recipient: str) -> str:
    """The bare, lower-case address without its +tag (a reply token is not a mailbox)."""
    address = parseaddr(recipient)[1].strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return UNKNOWN_RECIPIENT
    return f"{local.partition('+')[0]}@{domain}"


def team_for(source: str) -> Team | None:
    """The team whose address the mail was sent to, as a Mailbox names its team."""
    address = source.rpartition(":")[2]
    if address == UNKNOWN_RECIPIENT:
        return None
    return Team.objects.filter(email__iexact=address).order_by("pk").first()


def handle(raw: bytes, source: str) -> None:
    """The worker's step for provider mail: parse and ingest, or quarantine.

    Idempotent on (source, Message-ID) through ingest's receipt, so a provider's
    retry of the same mail stores it once. The rate limit stays on: this is live mail.
    """
    import_message(raw, source=source, team=team_for(source), enforce_rate_limit=True)


def send_error(error: AnymailError) -> SendError:
    """What an anymail backend's failure means for the outbox: retry, or fail for good.

    A refused recipient, an address the provider cannot use, and any other 4xx answer
    (a rejected payload, a wrong API key) will fail again; a 5xx, a timeout, a rate
    limit or no answer at all (connection refused) may pass later.
    """
    if isinstance(error, AnymailRecipientsRefused | AnymailInvalidAddress):
        return SendError(f"The mail provider refused the recipient: {error}", is_permanent=True)
    if not isinstance(error, AnymailAPIError):
        # An unsupported feature or an unserialisable message: the same mail fails again.
        return SendError(f"The mail provider cannot send this message: {error}", is_permanent=True)
    status = error.status_code
    if status is None:
        return SendError(f"The mail provider could not be reached: {error}", is_permanent=False)
    return SendError(
        f"The mail provider refused the message ({status}): {error}",
        is_permanent=400 <= status < 500 and status not in _RETRYABLE_STATUSES,
    )
