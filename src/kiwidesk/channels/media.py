"""Download a file a provider holds for us (a photo sent on WhatsApp, an MMS, a recording).

Providers send a link, not the bytes, and some links expire, so media are fetched in
the worker when the message is handled and kept as ordinary attachments. A refusal
(a 4xx, a file over the size limit) will not change on retry: it raises
MediaUnavailableError and the message is stored without the file and says so. A
network error or a 5xx raises MediaDownloadError, which the delivery retries.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from email.message import Message as HeaderParser
from urllib.parse import urlsplit

import requests
from django.conf import settings

from kiwidesk.cases.content import NewAttachment
from kiwidesk.ingest.contract import InboundMessage

TIMEOUT_SECONDS = 30
_CHUNK = 64 * 1024


class MediaUnavailableError(ValueError):
    """The provider will not give us this file (gone, forbidden, too large)."""


class MediaDownloadError(RuntimeError):
    """The download failed for a reason that may pass: try the delivery again later."""


def download(
    url: str,
    *,
    name: str,
    auth: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    content_type: str = "",
) -> NewAttachment:
    """Fetch `url` as an attachment called `name` (plus an extension from its type)."""
    limit: int = settings.KIWIDESK_MAX_ATTACHMENT_BYTES
    try:
        with requests.get(
            url, auth=auth, headers=dict(headers or {}), timeout=TIMEOUT_SECONDS, stream=True
        ) as response:
            _check_status(response, url)
            content = _read_at_most(response, limit, url)
            kind = content_type or response.headers.get("Content-Type", "")
            filename = _filename(response, name, kind)
    except requests.RequestException as exc:
        raise MediaDownloadError(f"{_where(url)} not downloaded: {exc}") from exc
    kind = kind.split(";")[0].strip() or "application/octet-stream"
    return NewAttachment(filename=filename, content_type=kind, content=content)


def look_up(url: str, *, headers: Mapping[str, str]) -> dict[str, object]:
    """GET a provider's JSON description of a file (where to download it, its type)."""
    try:
        response = requests.get(url, headers=dict(headers), timeout=TIMEOUT_SECONDS)
        _check_status(response, url)
        found = response.json()
    except requests.RequestException as exc:
        raise MediaDownloadError(f"{_where(url)} not read: {exc}") from exc
    except ValueError as exc:
        raise MediaUnavailableError(f"the provider's answer is not JSON: {exc}") from exc
    if not isinstance(found, dict):
        raise MediaUnavailableError("the provider's answer is not a JSON object")
    return found


def _check_status(response: requests.Response, url: str) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise MediaDownloadError(f"{_where(url)} answered {response.status_code}")
    if response.status_code >= 400:
        raise MediaUnavailableError(f"the provider answered {response.status_code}")


def _read_at_most(response: requests.Response, limit: int, url: str) -> bytes:
    received = bytearray()
    for chunk in response.iter_content(_CHUNK):
        received += chunk
        if len(received) > limit:
            raise MediaUnavailableError(f"larger than the limit of {limit:,} bytes")
    return bytes(received)


def _filename(response: requests.Response, name: str, content_type: str) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    if disposition:
        parser = HeaderParser()
        parser["Content-Disposition"] = disposition
        given = parser.get_filename()
        if given:
            return given
    if "." in name.rsplit("/", 1)[-1]:
        return name
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return name + extension


def _where(url: str) -> str:
    # Query strings of signed media links are credentials: never log or store them.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def with_downloads(
    message: InboundMessage, downloads: Iterable[tuple[str, Callable[[], NewAttachment]]]
) -> InboundMessage:
    """`message` with each (label, download) fetched as an attachment.

    A file the provider will not give is noted in the text instead, so the agent
    knows the customer sent something; a transient failure propagates for a retry.
    """
    attachments: list[NewAttachment] = []
    notes: list[str] = []
    for label, fetch in downloads:
        try:
            attachments.append(fetch())
        except MediaUnavailableError as exc:
            notes.append(f"[{label} not downloaded: {exc}]")
    if not attachments and not notes:
        return message
    text = "\n".join([message.text, *notes]) if notes else message.text
    return replace(message, text=text, attachments=(*message.attachments, *attachments))
