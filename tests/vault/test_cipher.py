from __future__ import annotations

import base64

import pytest

from kiwidesk.vault.cipher import (
    CorruptCiphertextError,
    KeyConfigError,
    MissingKeyError,
    file_key_id,
    new_key_line,
    open_file,
    open_text,
    parse_keys,
    seal_file,
    seal_text,
    text_key_id,
)

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()
BODY = "My card is 4111 1111 1111 1111, call me on 07700 900123."


def test_sealed_text_hides_the_value_and_opens_to_it() -> None:
    keys = parse_keys(KEY_A)

    sealed = seal_text(keys, BODY, context="cases.message.body_text")

    assert sealed.startswith("kv1:a:")
    assert "4111" not in sealed
    assert open_text(keys, sealed, context="cases.message.body_text") == BODY


def test_the_same_text_sealed_twice_differs() -> None:
    keys = parse_keys(KEY_A)

    first = seal_text(keys, BODY, context="c")
    second = seal_text(keys, BODY, context="c")

    assert first != second


def test_a_value_moved_to_another_column_does_not_open() -> None:
    keys = parse_keys(KEY_A)
    sealed = seal_text(keys, BODY, context="cases.message.body_text")

    with pytest.raises(CorruptCiphertextError, match=r"cases\.call\.transcript"):
        open_text(keys, sealed, context="cases.call.transcript")


def test_a_tampered_value_does_not_open() -> None:
    keys = parse_keys(KEY_A)
    sealed = seal_text(keys, BODY, context="c")
    tampered = sealed[:-6] + ("AAAA" if sealed[-6:-2] != "AAAA" else "BBBB") + sealed[-2:]

    with pytest.raises(CorruptCiphertextError):
        open_text(keys, tampered, context="c")


def test_a_value_under_a_missing_key_names_the_key() -> None:
    sealed = seal_text(parse_keys(KEY_A), BODY, context="c")

    with pytest.raises(MissingKeyError, match="'a'"):
        open_text(parse_keys(KEY_B), sealed, context="c")


def test_plaintext_from_before_encryption_reads_as_it_is() -> None:
    assert open_text(parse_keys(KEY_A), "Old row, never sealed", context="c") == (
        "Old row, never sealed"
    )


def test_the_first_key_seals_and_the_others_still_open() -> None:
    old = seal_text(parse_keys(KEY_A), BODY, context="c")
    keys = parse_keys(f"{KEY_B}, {KEY_A}")

    fresh = seal_text(keys, BODY, context="c")

    assert (text_key_id(old), text_key_id(fresh)) == ("a", "b")
    assert open_text(keys, old, context="c") == BODY


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no encryption key"),
        ("a" + base64.b64encode(b"A" * 32).decode(), "expected id:base64-key"),
        ("bad id:" + base64.b64encode(b"A" * 32).decode(), "expected id:base64-key"),
        ("a:not base64!", "not valid base64"),
        ("a:" + base64.b64encode(b"short").decode(), "has 5 bytes; AES-256 needs 32"),
        (f"{KEY_A},{KEY_A}", "appears twice"),
    ],
)
def test_unusable_keys_are_refused_with_the_reason(spec: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message):
        parse_keys(spec)


def test_a_generated_key_line_is_a_usable_key() -> None:
    line = new_key_line("k2026")

    keys = parse_keys(line)

    assert keys.current_id == "k2026"
    assert open_text(keys, seal_text(keys, BODY, context="c"), context="c") == BODY


def test_sealed_files_open_and_carry_their_key_id() -> None:
    keys = parse_keys(KEY_A)
    content = b"%PDF-1.7 referral letter for NHS 943 476 5919"

    sealed = seal_file(keys, content)

    assert b"943 476" not in sealed
    assert file_key_id(sealed) == "a"
    assert open_file(keys, sealed) == content


def test_a_truncated_file_does_not_open() -> None:
    keys = parse_keys(KEY_A)
    sealed = seal_file(keys, b"x" * 100)

    with pytest.raises(CorruptCiphertextError, match="'a'"):
        open_file(keys, sealed[:-10])
