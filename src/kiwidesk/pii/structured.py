"""Numbers and identifiers with a fixed shape: one cheap regex finds candidates, a check validates.

Each finder yields `(type, start, end)` for the candidates that pass their check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from kiwidesk.pii import checks
from kiwidesk.pii.finding import (
    DE_TAX_ID,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    PAYMENT_CARD,
    UK_NHS_NUMBER,
    US_SSN,
)

Span = tuple[str, int, int]

# A number that is part of a longer run of digit groups ("+1 415 555 0132") is not an id.
_NOT_AFTER_DIGITS: Final = r"(?<![\d+])(?<!\d[ -])(?<![\d+][.,/])"
_NOT_BEFORE_DIGITS: Final = r"(?!\d)(?![ -]\d)(?![.,/]\d)"

_CARD: Final = re.compile(
    r"(?<![\d+-])(?:"  # after "+" it is a phone number in international form
    r"\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,4}(?P<tail>\1\d{1,3})?"  # 4-4-4-4(-3), 4-4-4-1
    r"|\d{4}([ -]?)\d{6}\3\d{4,5}"  # American Express, Diners: 4-6-5, 4-6-4
    r"|\d{13,19}"
    r")(?!\d)"
)
_IBAN: Final = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,32}")
_SSN: Final = re.compile(_NOT_AFTER_DIGITS + r"\d{3}([- ]?)\d{2}\1\d{4}" + _NOT_BEFORE_DIGITS)
_NHS: Final = re.compile(_NOT_AFTER_DIGITS + r"\d{3}([ -]?)\d{3}\1\d{4}" + _NOT_BEFORE_DIGITS)
_DE_TAX_ID: Final = re.compile(
    _NOT_AFTER_DIGITS + r"[1-9]\d(?:( ?)\d{3}\1\d{3}\1\d{3})" + _NOT_BEFORE_DIGITS
)
_IPV4: Final = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d)(?!\.\d)")
# An IPv6 address has a colon before a hex digit or another colon; the whole address is
# then looked for around it.
_IPV6_HINT: Final = re.compile(r":[0-9A-Fa-f:]")
_IPV6_LONGEST: Final = 45
_IPV6: Final = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|:)(?:[0-9A-Fa-f]{0,4}:){1,7}"
    r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![\w:])"
)
_EMAIL_LOCAL: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._%+'-]{0,63})\Z")
_EMAIL_DOMAIN: Final = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"
)
_IBAN_SHORTEST: Final = 15


def find_in_digit_run(text: str, start: int, end: int) -> Iterator[Span]:
    """Numeric ids inside `text[start:end]`, a run of digits and separators."""
    yield from _cards(text, start, end)
    yield from _checked(text, start, end, _SSN, US_SSN, checks.is_us_ssn)
    yield from _checked(text, start, end, _NHS, UK_NHS_NUMBER, checks.is_uk_nhs_number)
    yield from _checked(text, start, end, _DE_TAX_ID, DE_TAX_ID, checks.is_de_tax_id)
    yield from _checked(text, start, end, _IPV4, IP_ADDRESS, checks.is_ip_address)


def find_iban_at(text: str, start: int) -> Iterator[Span]:
    """The IBAN starting at `start` (its country code), if any."""
    match = _IBAN.match(text, start)
    if match is not None:
        end = _valid_iban_end(match)
        if end is not None:
            yield IBAN, start, end


def _checked(
    text: str,
    start: int,
    end: int,
    pattern: re.Pattern[str],
    kind: str,
    check: Callable[[str], bool],
) -> Iterator[Span]:
    for match in pattern.finditer(text, start, end):
        if check(match.group()):
            yield kind, match.start(), match.end()


def _cards(text: str, start: int, end: int) -> Iterator[Span]:
    for match in _CARD.finditer(text, start, end):
        if checks.is_payment_card(match.group()):
            yield PAYMENT_CARD, match.start(), match.end()
        elif _is_expiry(text, match) and checks.is_payment_card(
            text[match.start() : match.start("tail")]
        ):
            # "4111 1111 1111 1111 12/26": the expiry month is not part of the number.
            yield PAYMENT_CARD, match.start(), match.start("tail")


def _is_expiry(text: str, match: re.Match[str]) -> bool:
    return match.group("tail") is not None and text.startswith("/", match.end())


def find_emails(text: str) -> Iterator[Span]:
    at = text.find("@")
    while at != -1:
        local = _EMAIL_LOCAL.search(text, max(0, at - 64), at)
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if local and domain:
            end = domain.end()
            # A sentence's full stop after the address is not part of it.
            yield EMAIL, local.start(), end
            at = text.find("@", end)
        else:
            at = text.find("@", at + 1)


def _valid_iban_end(match: re.Match[str]) -> int | None:
    # The pattern is greedy and may take the next word along ("... 00 AND"):
    # the longest prefix that validates is the IBAN.
    positions = [match.start() + offset for offset, char in enumerate(match.group()) if char != " "]
    compact = match.group().replace(" ", "")
    for length in range(len(compact), _IBAN_SHORTEST - 1, -1):
        if checks.is_iban(compact[:length]):
            return positions[length - 1] + 1
    return None


def find_ipv6(text: str) -> Iterator[Span]:
    done = 0  # the end of the last address found: never search before it again
    hint = _IPV6_HINT.search(text)
    while hint is not None:
        window_start = max(done, hint.start() - _IPV6_LONGEST)
        match = _IPV6.search(text, window_start, hint.end() + _IPV6_LONGEST)
        resume = hint.end()
        if match is not None and match.start() <= hint.start():
            if checks.is_ip_address(match.group()):
                yield IP_ADDRESS, match.start(), match.end()
            done = resume = max(resume, match.end())
        hint = _IPV6_HINT.search(text, resume)
