"""File storage that encrypts what it saves and decrypts what it opens.

Names, sizes shown to users and the SHA-256 kept on each Attachment stay the
plaintext's, so deduplication by content hash keeps working. A file saved before
encryption was turned on is read as it is, until `kiwidesk keys rotate` seals it.
"""

from __future__ import annotations

import io
import os
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage

from kiwidesk.vault.cipher import (
    FILE_MAGIC,
    file_key_id,
    file_overhead,
    open_file,
    seal_file,
)
from kiwidesk.vault.keys import keyring

# Enough of a file's start to read its header and the longest key id.
HEAD_BYTES = len(FILE_MAGIC) + 1 + 32


class DecryptedFile(File):  # type: ignore[type-arg]
    """The plaintext of a stored file, in memory; reopening reads it again from storage."""

    def __init__(self, storage: EncryptedFileSystemStorage, name: str) -> None:
        self._storage = storage
        super().__init__(io.BytesIO(storage.read_plaintext(name)), name=name)

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> DecryptedFile:
        # File.open would reopen `name` relative to the working directory: read it anew.
        if self.closed:
            self.file = io.BytesIO(self._storage.read_plaintext(str(self.name)))
        else:
            self.seek(0)
        return self


class EncryptedFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose files are sealed (AES-256-GCM) under the current key."""

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        plaintext = b"".join(_bytes(chunk) for chunk in content.chunks())
        # django-stubs leaves out FileSystemStorage._save, the hook Storage.save() calls.
        stored: str = super()._save(name, ContentFile(self.encode(plaintext)))  # type: ignore[misc]
        return stored

    def _open(self, name: str, mode: str = "rb") -> File:  # type: ignore[type-arg]
        if any(flag in mode for flag in "wa+"):
            raise ValueError("encrypted files are written with save(), not opened for writing")
        return DecryptedFile(self, name)

    def size(self, name: str) -> int:
        with open(self.path(name), "rb") as file:
            key_id = file_key_id(file.read(HEAD_BYTES))
        stored = os.path.getsize(self.path(name))
        return stored if key_id is None else stored - file_overhead(key_id)

    def encode(self, plaintext: bytes) -> bytes:
        """The bytes this storage writes for `plaintext` (for writers that bypass save())."""
        return seal_file(keyring(), plaintext)

    def read_plaintext(self, name: str) -> bytes:
        with open(self.path(name), "rb") as file:
            return open_file(keyring(), file.read())

    def reseal(self, name: str) -> bool:
        """Seal a stored file under the current key; False if it already is.

        Written aside and renamed over the old file, so a crash leaves either the old
        ciphertext or the new one, both of which open while the old key is configured.
        """
        keys = keyring()
        path = self.path(name)
        with open(path, "rb") as file:
            stored = file.read()
        if file_key_id(stored) == keys.current_id:
            return False
        sealed = seal_file(keys, open_file(keys, stored))
        partial = f"{path}.{os.getpid()}.rotating"
        with open(partial, "wb") as file:
            file.write(sealed)
        os.replace(partial, path)
        return True

    def stored_key_id(self, name: str) -> str | None:
        """The key id a stored file is sealed under; None for a plaintext file."""
        with open(self.path(name), "rb") as file:
            return file_key_id(file.read(HEAD_BYTES))


def stored_form(storage: Storage, content: bytes) -> bytes:
    """The bytes `storage` keeps for `content`: sealed when it encrypts, else unchanged."""
    if isinstance(storage, EncryptedFileSystemStorage):
        return storage.encode(content)
    return content


def _bytes(chunk: bytes | str) -> bytes:
    return chunk.encode() if isinstance(chunk, str) else chunk
