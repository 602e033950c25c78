from __future__ import annotations

import pytest

from kiwidesk.envconfig import ConfigError, env_bool, env_int, env_list, env_secret


def test_bool_reads_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("KD_FLAG", "Yes")

    assert env_bool("KD_FLAG", False) is True


def test_bool_refuses_a_value_it_cannot_read(monkeypatch):
    monkeypatch.setenv("KD_FLAG", "maybe")

    with pytest.raises(ConfigError, match="KD_FLAG='maybe'"):
        env_bool("KD_FLAG", False)


def test_int_refuses_words(monkeypatch):
    monkeypatch.setenv("KD_NUMBER", "ten")

    with pytest.raises(ConfigError, match="whole number"):
        env_int("KD_NUMBER", 1)


def test_unset_values_fall_back_to_defaults(monkeypatch):
    monkeypatch.delenv("KD_NUMBER", raising=False)
    monkeypatch.setenv("KD_HOSTS", " ")

    assert env_int("KD_NUMBER", 7) == 7
    assert env_list("KD_HOSTS", ["a"]) == ["a"]


def test_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("KD_HOSTS", "desk.example.org, 127.0.0.1 ,")

    assert env_list("KD_HOSTS", []) == ["desk.example.org", "127.0.0.1"]


def test_secret_is_read_from_a_file_when_named(monkeypatch, tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("KD_KEY_FILE", str(secret_file))

    assert env_secret("KD_KEY") == "s3cret"


def test_missing_secret_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KD_KEY_FILE", str(tmp_path / "absent"))

    with pytest.raises(ConfigError, match="KD_KEY_FILE"):
        env_secret("KD_KEY")
