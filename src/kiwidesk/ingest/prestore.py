"""Write a message's files before ingest runs, from the processes that parse mail.

Raw bytes and attachments are stored under their SHA-256, so a file written ahead is
found by ingest, which then only checks that it exists. An import's parse workers do
this in parallel, and the one writer process is left with the database.
"""

from __future__ import annotations

import hashlib
import os

from django.core.files.storage import FileSystemStorage, default_storage

from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.findings import found_ahead
from kiwidesk.ingest.services import _accepted, raw_name
from kiwidesk.vault.storage import stored_form


def prestore(message: InboundMessage) -> InboundMessage:
    """Store the raw bytes and accepted attachments of `message` where ingest keeps them,
    and return it with the personal data in its text found.

    Files only on a file-system storage. A message never ingested leaves orphan files,
    as a rolled-back ingest does.
    """
    _keep(raw_name(message.raw), message.raw)
    for attachment in _accepted(message.attachments):
        _keep(attachment_name(attachment.content), attachment.content)
    return found_ahead(message)


def attachment_name(content: bytes) -> str:
    """The name cases.content.store_content gives these bytes."""
    digest = hashlib.sha256(content).hexdigest()
    return f"attachments/{digest[:2]}/{digest}"


def _keep(name: str, content: bytes) -> None:
    # Other storages (a bucket) are left to ingest: a worker gains nothing there.
    if not content or not isinstance(default_storage, FileSystemStorage):
        return
    path = default_storage.path(name)
    if os.path.exists(path):
        return
    # Written aside and renamed: a worker killed mid-write must not leave a truncated
    # file under the content's name, which would never be written again. Two
    # workers writing the same content rename the same bytes over each other.
    folder, filename = os.path.split(path)
    partial = os.path.join(folder, f".{filename}.{os.getpid()}.partial")
    try:
        file = open(partial, "wb")  # noqa: SIM115
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        file = open(partial, "wb")  # noqa: SIM115
    with file:
        # In the storage's own form: an encrypting storage must never hold plaintext.
        file.write(stored_form(default_storage, content))
    os.replace(partial, path)
