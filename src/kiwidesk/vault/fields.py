"""Columns stored encrypted: Python sees the plaintext, the database a sealed value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Lookup
from django.db.models.expressions import Combinable

from kiwidesk.vault.cipher import open_file, open_text, seal_file, seal_text
from kiwidesk.vault.keys import keyring

# The database holds ciphertext: these lookups would compare against it and silently
# match nothing, so asking for one is an error instead (filter in Python).
_MEANINGLESS_LOOKUPS = frozenset(
    {"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
     "regex", "iregex", "gt", "gte", "lt", "lte", "range", "search", "trigram_similar"}
)  # fmt: skip


def seal(value: str, context: str) -> str:
    """The value as the column stores it; empty stays empty (so `body_text=""` still filters)."""
    if not value:
        return value
    return seal_text(keyring(), value, context=context)


def unseal(value: str, context: str) -> str:
    return open_text(keyring(), value, context=context)


if TYPE_CHECKING:
    # The model attribute is a str, as a TextField's (Django's classes are not
    # subscriptable at run time).
    _TextField = models.TextField[str | Combinable, str]
    _BinaryField = models.BinaryField[bytes | bytearray | memoryview | Combinable, bytes]
else:
    _TextField = models.TextField
    _BinaryField = models.BinaryField


class EncryptedTextField(_TextField):
    """A TextField sealed with the current key on save and opened on load.

    The associated data is the column's name ("cases.message.body_text"): a value copied
    into another column does not open. A stored value without the ``kv1:`` prefix is
    read as plaintext, so rows written before encryption keep working until
    `kiwidesk keys rotate` seals them.
    """

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.vault_context = f"{cls._meta.label_lower}.{name}"

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None:
            return None
        return unseal(value, self.vault_context)

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        prepared = super().get_db_prep_save(value, connection)
        if prepared is None:
            return None
        return seal(str(prepared), self.vault_context)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name in _MEANINGLESS_LOOKUPS:
            return None
        return super().get_lookup(lookup_name)


# A sealed binary value can only be compared for being there or not.
_BINARY_LOOKUPS = frozenset({"isnull"})


def seal_bytes(value: bytes, context: str) -> bytes:
    """The bytes as the column stores them; empty stays empty, as for text."""
    if not value:
        return value
    return seal_file(keyring(), value, context=context)


def unseal_bytes(value: bytes, context: str) -> bytes:
    return open_file(keyring(), value, context=context)


class EncryptedBinaryField(_BinaryField):
    """A BinaryField sealed with the current key on save and opened on load.

    Sealed as a file is (``KVF1`` header, key id, nonce, ciphertext) with the column's
    name ("ingest.delivery.raw") as associated data, so bytes copied into another
    column do not open. Stored bytes without the header are read as plaintext: rows
    kept before encryption stay readable until `kiwidesk keys rotate` seals them.
    Python always gets ``bytes`` back, on PostgreSQL too (not a memoryview).
    """

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.vault_context = f"{cls._meta.label_lower}.{name}"

    def from_db_value(
        self, value: bytes | memoryview | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> bytes | None:
        if value is None:
            return None
        return unseal_bytes(bytes(value), self.vault_context)

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None
        return super().get_db_prep_save(seal_bytes(bytes(value), self.vault_context), connection)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        # Every seal has a fresh nonce, so even `exact` would never match.
        if lookup_name not in _BINARY_LOOKUPS:
            return None
        return super().get_lookup(lookup_name)
