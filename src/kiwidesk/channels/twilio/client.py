"""The Twilio REST client, built from the settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from twilio.http import HttpClient
from twilio.rest import Client

from kiwidesk.channels.common import DeliveryError


def twilio_client(http_client: HttpClient | None = None) -> Client:
    """A client for the configured account; `http_client` replaces the transport in tests."""
    account_sid: str = settings.KIWIDESK_TWILIO_ACCOUNT_SID
    auth_token: str = settings.KIWIDESK_TWILIO_AUTH_TOKEN
    if not account_sid or not auth_token:
        raise DeliveryError(
            "KIWIDESK_TWILIO_ACCOUNT_SID and KIWIDESK_TWILIO_AUTH_TOKEN must be set",
            is_permanent=True,
        )
    return Client(account_sid, auth_token, http_client=http_client)


def account_credentials() -> tuple[str, str]:
    """HTTP basic auth for Twilio's API and the media it holds (account SID, auth token)."""
    return settings.KIWIDESK_TWILIO_ACCOUNT_SID, settings.KIWIDESK_TWILIO_AUTH_TOKEN


def is_on_api_host(url: str) -> bool:
    """Whether `url` is on Twilio's API host: the account's credentials go nowhere else,
    whatever address a callback names (KIWIDESK_TWILIO_API_BASE_URL; tests point it here)."""
    wanted = urlsplit(settings.KIWIDESK_TWILIO_API_BASE_URL)
    given = urlsplit(url)
    return (given.scheme, given.netloc) == (wanted.scheme, wanted.netloc)
