"""An inbound SMS/MMS or WhatsApp message with its photos and files downloaded from Twilio."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from kiwidesk.cases.content import NewAttachment
from kiwidesk.channels import media
from kiwidesk.channels.twilio import adapter
from kiwidesk.channels.twilio.client import account_credentials, is_on_api_host
from kiwidesk.ingest.contract import InboundMessage


def parse_with_media(raw: bytes, source: str = "") -> InboundMessage:
    """`adapter.parse`, plus each MediaUrl fetched with the account's credentials."""
    message = adapter.parse(raw, source)
    return media.with_downloads(
        message,
        [(f"Attachment ({link.content_type})", _fetch(link)) for link in adapter.media_links(raw)],
    )


def _fetch(link: adapter.MediaLink) -> Callable[[], NewAttachment]:
    if not is_on_api_host(link.url):
        return partial(_refuse, link.url)
    return partial(
        media.download,
        link.url,
        name=link.name,
        auth=account_credentials(),
        content_type=link.content_type,
    )


def _refuse(url: str) -> NewAttachment:
    raise media.MediaUnavailableError(f"{urlsplit(url).netloc} is not Twilio's media host")
