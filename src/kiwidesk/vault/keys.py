"""Where the keys come from: settings, the environment, or a key generated for the demo.

In order: the setting ``KIWIDESK_ENCRYPTION_KEYS`` (a string, or a list of entries),
the environment variable of the same name (or the file named by
``KIWIDESK_ENCRYPTION_KEYS_FILE``), else a key generated once into the data folder, as
settings.py does for the secret key, so the demo needs no setup. Production sets the
environment: a key that lives only beside the database is backed up with it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from kiwidesk.envconfig import env_secret
from kiwidesk.vault.cipher import Keyring, new_key_line, parse_keys

GENERATED_KEY_FILE = "encryption_keys"
GENERATED_KEY_ID = "k1"


def keyring() -> Keyring:
    """The configured keys; parsed once per distinct configuration."""
    return _parsed(_spec())


def _spec() -> str:
    configured = getattr(settings, "KIWIDESK_ENCRYPTION_KEYS", None)
    if isinstance(configured, list | tuple):
        configured = ",".join(configured)
    if configured:
        return str(configured)
    from_env = env_secret("KIWIDESK_ENCRYPTION_KEYS")
    if from_env:
        return from_env
    # A string, not a Path, as the cache key: this runs for every value sealed.
    return _generated(str(getattr(settings, "DATA_DIR", "data")))


@lru_cache(maxsize=8)
def _parsed(spec: str) -> Keyring:
    return parse_keys(spec)


@lru_cache(maxsize=4)
def _generated(folder: str) -> str:
    data_dir = Path(folder)
    key_file = data_dir / GENERATED_KEY_FILE
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name with mode 600, then linked into place: of
        # several processes starting together (the import's parse workers) one key
        # wins, and no one ever reads a half-written file.
        partial = data_dir / f".{GENERATED_KEY_FILE}.{os.getpid()}"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(new_key_line(GENERATED_KEY_ID) + "\n")
        try:
            os.link(partial, key_file)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return key_file.read_text().strip()
