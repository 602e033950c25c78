"""Tolerant decoding of the pieces of a MIME message: headers, addresses, parts, dates.

Real mail breaks every rule: unknown charsets, raw 8-bit headers, bad dates, endless
nesting. Every helper here returns something usable and never raises on bad input.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

# A bomb of nested parts must not hang an import: past these the rest is ignored.
MAX_PARTS = 200
MAX_DEPTH = 12

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_WHITESPACE = re.compile(r"\s+")
_BARE_ADDRESS = re.compile(r"[^\s<>\"(),;:\[\]@]+@[^\s<>\"(),;:\[\]@]+")
_TEXT_ENCODINGS: dict[str, str | None] = {}


@dataclass(frozen=True)
class Address:
    name: str
    email: str


def clean_text(text: str) -> str:
    """Drop NUL bytes and lone surrogates, which no database column accepts."""
    text = text.replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, falling back to what mislabelled mail really is.

    Mail labelled ASCII or UTF-8 (or not labelled) that does not decode is nearly
    always Windows-1252; mail in another declared charset keeps it, with replacements.
    """
    declared = _text_encoding(charset)
    if declared in (None, "ascii", "utf-8"):
        for candidate in ("utf-8", "cp1252"):
            try:
                return data.decode(candidate)
            except UnicodeDecodeError:
                continue
        return data.decode("latin-1")
    try:
        return data.decode(declared)
    except (UnicodeDecodeError, ValueError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(declared, "replace")


def _text_encoding(charset: str | None) -> str | None:
    """The codec name of a charset label, or None for a label no text codec answers to."""
    if not charset:
        return None
    if charset not in _TEXT_ENCODINGS:
        try:
            info = codecs.lookup(charset)
            # Codecs such as base64 or rot13 are not text encodings; decode() refuses them.
            _TEXT_ENCODINGS[charset] = info.name if info._is_text_encoding else None
        except (LookupError, ValueError, TypeError):
            _TEXT_ENCODINGS[charset] = None
    return _TEXT_ENCODINGS[charset]


def header_values(message: Message, name: str) -> list[str]:
    """Every raw value of a header, unfolded, without parsing it."""
    wanted = name.lower()
    return [
        _FOLD.sub("", str(value)).strip()
        for key, value in message.raw_items()
        if key.lower() == wanted
    ]


def first_header(message: Message, name: str) -> str:
    values = header_values(message, name)
    return values[0] if values else ""


def decode_words(raw: str) -> str:
    """Decode RFC 2047 encoded words; raw 8-bit bytes are read as UTF-8 or Windows-1252."""
    if "=?" not in raw:
        return clean_text(_undo_surrogates(raw))
    try:
        chunks = decode_header(raw)
    except Exception:  # the stdlib raises assorted errors on broken encoded words
        return clean_text(_undo_surrogates(raw))
    decoded = [
        _undo_surrogates(chunk) if isinstance(chunk, str) else decode_bytes(chunk, charset)
        for chunk, charset in chunks
    ]
    return clean_text("".join(decoded))


def _undo_surrogates(text: str) -> str:
    # The bytes parser keeps 8-bit header bytes as surrogate escapes.
    if not any("\udc80" <= char <= "\udcff" for char in text):
        return text
    return decode_bytes(text.encode("ascii", "surrogateescape"), "utf-8")


def decode_subject(raw: str) -> str:
    return _WHITESPACE.sub(" ", decode_words(raw)).strip()


def addresses(message: Message, *names: str) -> list[Address]:
    """The addresses in the named headers, in order, with display names decoded."""
    return parse_addresses([value for name in names for value in header_values(message, name)])


def parse_addresses(raw_values: list[str]) -> list[Address]:
    found = []
    for raw_name, raw_email in getaddresses(raw_values):
        email = decode_words(raw_email).strip().strip("<>").strip()
        if _BARE_ADDRESS.fullmatch(email):
            found.append(Address(name=decode_subject(raw_name).strip("'\" "), email=email))
    if not found:
        # "From: Big Bug bb@example.com" and other shapes getaddresses cannot split.
        joined = " ".join(raw_values)
        found = [Address(name="", email=email) for email in _BARE_ADDRESS.findall(joined)]
    return found


def message_id(raw: str) -> str:
    """The id inside the angle brackets, or the whole value when there are none."""
    value = decode_words(raw).strip()
    match = re.search(r"<([^<>\s]+)>", value)
    if match:
        return match.group(1)
    words = value.strip("<> ").split()
    return words[0] if words else ""


def message_ids(raw: str) -> tuple[str, ...]:
    value = decode_words(raw)
    found = re.findall(r"<([^<>\s]+)>", value)
    return tuple(found) if found else tuple(value.split())


def sent_at(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(decode_words(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC, local zone unknown (RFC 5322 3.3)
        moment = moment.replace(tzinfo=UTC)
    return moment


def leaf_parts(message: Message) -> Iterator[Message]:
    """Yield the non-multipart parts depth first, at most MAX_PARTS of them.

    An attached message (message/rfc822) is yielded as one leaf, not walked into:
    it is a forward or a bounce, and its own text is not the sender's.
    """
    budget = [MAX_PARTS]
    yield from _walk(message, 0, budget)


def _walk(part: Message, depth: int, budget: list[int]) -> Iterator[Message]:
    if budget[0] <= 0 or depth > MAX_DEPTH:
        return
    budget[0] -= 1
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart" and isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _walk(child, depth + 1, budget)
        return
    yield part


def part_bytes(part: Message) -> bytes:
    """The decoded body of a part: base64, quoted-printable, uuencode or 8-bit."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep what is there
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # a malformed Content-Type parameter
        charset = None
    text = decode_bytes(part_bytes(part), charset)
    return clean_text(text.replace("\r\n", "\n").replace("\r", "\n")).rstrip()


def part_filename(part: Message) -> str:
    try:
        filename = part.get_filename() or part.get_param("name") or ""
    except Exception:  # a malformed RFC 2231 parameter
        filename = ""
    if isinstance(filename, tuple):  # an RFC 2231 value the stdlib left undecoded
        filename = decode_bytes(filename[2].encode("latin-1", "replace"), filename[0])
    return decode_subject(str(filename))
