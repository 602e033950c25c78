"""Make message content from outside safe to store and show."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import nh3
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from kiwidesk.pii import detect

# Attachments an agent reads as text, and so may carry personal data; `message/*`
# (a forwarded mail, a bounce report) is text too.
PII_SCANNED_TYPES = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})
# Only the start of a large text file is scanned: detection runs on the path that stores
# the mail, and 256 KB of a contact list (a phone number and an address a line) takes
# about 2 s to scan, while its first rows already tell an agent what it carries.
PII_SCAN_BYTES = 256 * 1024

# Dangerous types are refused, not stored: a support inbox is a favourite way in.
REFUSED_EXTENSIONS = frozenset(
    {".exe", ".bat", ".cmd", ".com", ".scr", ".js", ".jse", ".vbs", ".vbe", ".msi", ".ps1",
     ".jar", ".hta", ".cpl", ".dll", ".lnk", ".reg", ".wsf", ".pif"}
)  # fmt: skip


class AttachmentRefusedError(ValueError):
    """An attachment too large, or of a type that could run on an agent's machine."""


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    content: bytes
    # A mail's inline part (an image its HTML shows as `cid:...`), without angle brackets.
    content_id: str = ""


@dataclass(frozen=True)
class StoredFile:
    name: str
    sha256: str
    size: int


def sanitise_html(html: str) -> str:
    """Keep formatting, drop scripts, event handlers, styles and unsafe URLs."""
    if not html.strip():
        return ""
    return nh3.clean(
        html,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto", "tel", "cid"},
    )


def clean_filename(filename: str) -> str:
    name = re.sub(r"[\x00-\x1f/\\]", "_", filename).strip(" .") or "attachment"
    return name[-200:]


def check_attachment(attachment: NewAttachment) -> None:
    limit = settings.KIWIDESK_MAX_ATTACHMENT_BYTES
    if len(attachment.content) > limit:
        raise AttachmentRefusedError(
            f"{attachment.filename} is {len(attachment.content)} bytes; the limit is {limit}"
        )
    lowered = attachment.filename.lower()
    if any(lowered.endswith(ext) for ext in REFUSED_EXTENSIONS):
        raise AttachmentRefusedError(f"{attachment.filename} is a type that could run code")


def store_content(content: bytes) -> StoredFile:
    """Store bytes under their SHA-256 so the same file sent twice is kept once."""
    digest = hashlib.sha256(content).hexdigest()
    name = f"attachments/{digest[:2]}/{digest}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(content))
    return StoredFile(name=name, sha256=digest, size=len(content))


def attachment_findings(content: bytes, content_type: str) -> list[list[Any]]:
    """[[type, start, end], ...] of the personal data in a text attachment, as Message.pii.

    Offsets are characters of the UTF-8 text of the first PII_SCAN_BYTES. Other types, and
    bytes that are not UTF-8, give []: guessing an encoding would invent findings.
    """
    if not _is_scanned_type(content_type):
        return []
    # Incremental, so a character the cut splits in two is dropped rather than refused.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(content[:PII_SCAN_BYTES], final=len(content) <= PII_SCAN_BYTES)
    except UnicodeDecodeError:
        return []
    return [[finding.type, finding.start, finding.end] for finding in detect(text)]


def _is_scanned_type(content_type: str) -> bool:
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence in PII_SCANNED_TYPES or essence.startswith("message/")
