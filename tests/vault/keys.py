"""Two fixed keys for tests, as KIWIDESK_ENCRYPTION_KEYS entries."""

from __future__ import annotations

import base64

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()

ENCRYPTED_STORAGES = {
    "default": {"BACKEND": "kiwidesk.vault.storage.EncryptedFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
