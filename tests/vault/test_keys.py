from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kiwidesk.vault import keys
from kiwidesk.vault.cipher import KeyConfigError, new_key_line, parse_keys
from kiwidesk.vault.keys import keyring
from tests.vault.keys import KEY_A, KEY_B


@pytest.fixture(autouse=True)
def _no_configured_keys(settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = None
    settings.DATA_DIR = tmp_path / "data"
    monkeypatch.delenv("KIWIDESK_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("KIWIDESK_ENCRYPTION_KEYS_FILE", raising=False)


def test_keys_come_from_the_environment_first_key_current(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIWIDESK_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")

    keys = keyring()

    assert keys.current_id == "b"
    assert list(keys.keys) == ["b", "a"]


def test_keys_come_from_a_secret_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "keys"
    secret.write_text(f"{KEY_A}\n")
    monkeypatch.setenv("KIWIDESK_ENCRYPTION_KEYS_FILE", str(secret))

    assert keyring().current_id == "a"


def test_the_setting_wins_over_the_environment(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIWIDESK_ENCRYPTION_KEYS", KEY_A)
    settings.KIWIDESK_ENCRYPTION_KEYS = [KEY_B]

    assert keyring().current_id == "b"


def test_without_configuration_a_key_is_generated_once_into_the_data_folder(
    settings: Any,
) -> None:
    first = keyring()

    key_file = settings.DATA_DIR / "encryption_keys"
    assert first.current_id == "k1"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keyring().keys == first.keys


def test_a_malformed_key_in_the_environment_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIWIDESK_ENCRYPTION_KEYS", "a:tooshort")

    with pytest.raises(KeyConfigError, match="encryption key 'a'"):
        keyring()


def test_of_two_processes_generating_a_key_at_once_one_key_wins(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = new_key_line("k1")
    real_link = os.link

    def link_after_the_other_process(source: Any, target: Any) -> None:
        Path(target).write_text(other + "\n")
        real_link(source, target)

    monkeypatch.setattr(keys.os, "link", link_after_the_other_process)

    assert keyring() == parse_keys(other)
    assert sorted(p.name for p in settings.DATA_DIR.iterdir()) == ["encryption_keys"]
