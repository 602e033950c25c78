"""AES-256-GCM for values and files, with the key id carried in every ciphertext.

A text value is sealed as ``kv1:<key id>:<base64 of nonce + ciphertext>``; a file as
``KVF1``, one byte of key-id length, the key id, then nonce + ciphertext. The key id
says which key opens it, so keys can be rotated while old values stay readable. The
associated data binds a value to where it belongs (its column, or "file"), so a
ciphertext copied into another column fails to open instead of showing up there.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TEXT_PREFIX = "kv1:"
FILE_MAGIC = b"KVF1"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class VaultError(Exception):
    """Base of the vault's errors."""


class KeyConfigError(VaultError):
    """The configured keys cannot be used (bad format, wrong length, duplicate id)."""


class MissingKeyError(VaultError):
    """A ciphertext names a key id that is not configured."""

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"no encryption key with id {key_id!r} is configured: add it back to "
            "KIWIDESK_ENCRYPTION_KEYS (after the current key) to read this value"
        )
        self.key_id = key_id


class CorruptCiphertextError(VaultError):
    """A ciphertext was altered, truncated, moved to another column, or sealed with another
    key of the same id."""


@dataclass(frozen=True)
class Keyring:
    """Keys by id; the first is current (every new value is sealed with it)."""

    current_id: str
    keys: dict[str, bytes]
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for key_id, key in self.keys.items():
            self._ciphers[key_id] = AESGCM(key)

    def cipher(self, key_id: str) -> AESGCM:
        try:
            return self._ciphers[key_id]
        except KeyError:
            raise MissingKeyError(key_id) from None


def parse_keys(spec: str) -> Keyring:
    """Read ``id:base64key,id:base64key``; the first entry is the current key."""
    keys: dict[str, bytes] = {}
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        key_id, separator, encoded = entry.partition(":")
        if not separator or not KEY_ID.fullmatch(key_id):
            raise KeyConfigError(
                f"encryption key entry {key_id[:32]!r}: expected id:base64-key, the id made of "
                "letters, digits, '-' or '_' (at most 32)"
            )
        if key_id in keys:
            raise KeyConfigError(f"encryption key id {key_id!r} appears twice")
        keys[key_id] = _decode_key(key_id, encoded.strip())
    if not keys:
        raise KeyConfigError("no encryption key is configured")
    return Keyring(current_id=next(iter(keys)), keys=keys)


def _decode_key(key_id: str, encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyConfigError(f"encryption key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyConfigError(f"encryption key {key_id!r} has {len(key)} bytes; AES-256 needs 32")
    return key


def new_key_line(key_id: str) -> str:
    """A fresh random key as one ``id:base64`` entry."""
    if not KEY_ID.fullmatch(key_id):
        raise KeyConfigError(f"key id {key_id!r}: use letters, digits, '-' or '_' (at most 32)")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


# Text values


def is_sealed_text(value: str) -> bool:
    return value.startswith(TEXT_PREFIX)


def text_key_id(value: str) -> str | None:
    """The key id of a sealed value; None for plaintext."""
    if not is_sealed_text(value):
        return None
    return value[len(TEXT_PREFIX) :].partition(":")[0]


def seal_text(keyring: Keyring, plaintext: str, *, context: str) -> str:
    key_id = keyring.current_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = keyring.cipher(key_id).encrypt(nonce, plaintext.encode(), _text_aad(key_id, context))
    return f"{TEXT_PREFIX}{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def open_text(keyring: Keyring, value: str, *, context: str) -> str:
    """The plaintext of a sealed value; a value without the prefix is returned as it is."""
    if not is_sealed_text(value):
        return value
    key_id, _, encoded = value[len(TEXT_PREFIX) :].partition(":")
    cipher = keyring.cipher(key_id)
    try:
        blob = base64.b64decode(encoded, validate=True)
        plain = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _text_aad(key_id, context))
    except (binascii.Error, InvalidTag, ValueError):
        raise CorruptCiphertextError(
            f"the value sealed for {context} under key {key_id!r} does not open: it was "
            "altered, truncated or copied from another column"
        ) from None
    return plain.decode()


def _text_aad(key_id: str, context: str) -> bytes:
    return f"{TEXT_PREFIX}{key_id}:{context}".encode()


# Files


def is_sealed_file(head: bytes) -> bool:
    return head.startswith(FILE_MAGIC)


def file_key_id(head: bytes) -> str | None:
    """The key id in a file's first bytes (read at least 37); None for a plaintext file."""
    if not is_sealed_file(head) or len(head) <= len(FILE_MAGIC):
        return None
    length = head[len(FILE_MAGIC)]
    return head[len(FILE_MAGIC) + 1 : len(FILE_MAGIC) + 1 + length].decode("ascii", "replace")


def file_overhead(key_id: str) -> int:
    """How many bytes a sealed file has beyond its plaintext."""
    return len(FILE_MAGIC) + 1 + len(key_id) + NONCE_BYTES + TAG_BYTES


def seal_file(keyring: Keyring, plaintext: bytes, *, context: str = "file") -> bytes:
    key_id = keyring.current_id
    header = FILE_MAGIC + bytes([len(key_id)]) + key_id.encode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = keyring.cipher(key_id).encrypt(nonce, plaintext, header + context.encode())
    return header + nonce + sealed


def open_file(keyring: Keyring, data: bytes, *, context: str = "file") -> bytes:
    """The plaintext of a sealed file; bytes without the header are returned as they are."""
    key_id = file_key_id(data)
    if key_id is None:
        return data
    header_end = len(FILE_MAGIC) + 1 + len(key_id)
    cipher = keyring.cipher(key_id)
    nonce = data[header_end : header_end + NONCE_BYTES]
    try:
        return cipher.decrypt(
            nonce, data[header_end + NONCE_BYTES :], data[:header_end] + context.encode()
        )
    except (InvalidTag, ValueError):
        raise CorruptCiphertextError(
            f"a file sealed under key {key_id!r} does not open: it was altered or truncated"
        ) from None
