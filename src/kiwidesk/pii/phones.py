"""Phone numbers: a digit-run pre-scan, then `phonenumbers` (slow) only on the candidates."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

import phonenumbers
from phonenumbers.phonenumbermatcher import (
    _contains_only_valid_x_chars,
    _is_national_prefix_present_if_required,
)

from kiwidesk.pii.finding import PHONE

DEFAULT_REGIONS: Final = ("GB", "US", "DE")
_MIN_DIGITS: Final = 7
_LONGEST_NUMBER: Final = 15  # E.164

# ISO and numeric dates are digit runs too, never phone numbers ("2015-12-22 04:34").
# A number written like a card (4-4-4-4) is a card or a mistyped one, not a phone.
_CARD_SHAPE: Final = re.compile(r"\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}")
# Support mail is full of order and tracking numbers that happen to be valid German
# numbers ("Order #07588532"): a number right after one of these words is not a phone.
_NOT_A_PHONE_CUE: Final = re.compile(
    r"(?:#|\bno\.?|\border|\btracking|\bticket|\binvoice|\breference|\bref\.?|\bcase|"
    r"\baccount|\bcustomer|\bbestellung|\brechnung|\bsendung|\bkunden(?:nummer)?)"
    r"[\s:#.-]*(?:(?:number|nr|no|nummer|id)\b[\s:#.-]*)?\Z",
    re.IGNORECASE,
)
_CUE_REACH: Final = 30
# Words that say a number is a phone number, before it ("Phone: …", "call me on …") or
# after it ("… office", "…-Fax"). People write numbers of every country, and often ones
# libphonenumber calls invalid (unassigned ranges, no trunk prefix): a privacy filter
# counts a number that is given as a phone number as one.
_PHONE_CUE_BEFORE: Final = re.compile(
    r"(?:\bphone|\btel(?:ephone|efon)?|\bmobile?|\bcell|\bfax|\bdesk|\bhandy|\bcall|"
    r"\bring|\btext|\bwhatsapp|\bsms|\banswering|\breach(?: me)?)"
    r"\b[^\d\n]{0,12}\n?\Z",
    re.IGNORECASE,
)
_PHONE_CUE_AFTER: Final = re.compile(
    r"[\s-]{0,2}(?:x\d{1,5}[\s-]{0,2})?(?:office|mobile|cell|fax|home|work|desk|phone)\b",
    re.IGNORECASE,
)
_DATE_SHAPE: Final = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})(?!\d)[ .]*")
_LONGEST_MONTH: Final = 31
_MONTHS: Final = 12


def find_phones_in_digit_run(
    text: str, start: int, end: int, regions: Sequence[str] = DEFAULT_REGIONS
) -> Iterator[tuple[str, int, int]]:
    """Phone numbers in `text[start:end]`, a run of digits and separators."""
    if start > 0 and text[start - 1] in "+(":
        start -= 1
    date = _DATE_SHAPE.match(text, start, end)
    if date is not None and _could_be_a_date(*date.groups()):
        start = date.end()
    candidate = text[start:end]
    if sum(char.isdigit() for char in candidate) < _MIN_DIGITS or _CARD_SHAPE.search(candidate):
        return
    if _NOT_A_PHONE_CUE.search(text, max(0, start - _CUE_REACH), start):
        return
    found = _numbers_in(candidate, regions) or _given_as_phone(text, start, end, candidate)
    for number_start, number_end in found:
        # The matcher may return a span with the space before the number.
        value = candidate[number_start:number_end]
        leading = len(value) - len(value.lstrip())
        yield PHONE, start + number_start + leading, start + number_start + len(value.rstrip())


def _could_be_a_date(first: str, middle: str, last: str) -> bool:
    """Whether a-b-c reads as a date (year first, day first or month first): "60-56-85"
    and "03.93.92.16.85" are phone numbers written in pairs, not dates."""
    if int(middle) == 0 or int(middle) > _LONGEST_MONTH:
        return False
    if len(first) == 4:
        return True
    return int(first) <= _LONGEST_MONTH and (int(middle) <= _MONTHS or int(first) <= _MONTHS)


def _numbers_in(candidate: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    # A number in international form is the same number whatever the region.
    tried = regions[:1] if candidate.startswith(("+", "00")) else regions
    if sum(char.isdigit() for char in candidate) <= _LONGEST_NUMBER:
        return _whole_number(candidate, tried)
    # Several numbers in one run ("0171 234567 / 0172 345678"): the matcher splits them.
    for region in tried:
        found = [
            (number.start, number.end)
            for number in phonenumbers.PhoneNumberMatcher(
                candidate, region, leniency=phonenumbers.Leniency.VALID
            )
        ]
        if found:
            return found
    return []


def _given_as_phone(text: str, start: int, end: int, candidate: str) -> list[tuple[int, int]]:
    """A number libphonenumber does not call valid, taken as a phone number all the same
    when it is written in international form with a possible length, or said to be one."""
    digits = sum(char.isdigit() for char in candidate)
    if not _MIN_DIGITS <= digits <= _LONGEST_NUMBER:
        return []
    length = len(candidate.rstrip(" .-/("))
    if candidate.startswith("+"):
        try:
            number = phonenumbers.parse(candidate[:length], None)
        except phonenumbers.NumberParseException:
            return []
        return [(0, length)] if phonenumbers.is_possible_number(number) else []
    cued = _PHONE_CUE_BEFORE.search(text, max(0, start - _CUE_REACH), start) or (
        _PHONE_CUE_AFTER.match(text, end)
    )
    return [(0, length)] if cued else []


def _whole_number(candidate: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    # The common case, one number, without the matcher's search: about ten times faster.
    text = candidate.rstrip(" .-/(")
    for region in regions:
        try:
            number = phonenumbers.parse(text, region, keep_raw_input=True)
        except phonenumbers.NumberParseException:
            return []
        # The matcher's own test for leniency VALID, which also wants the trunk prefix ("0")
        # where the region writes it: "89799778" is an order number, not Munich.
        if (
            phonenumbers.is_valid_number(number)
            and _contains_only_valid_x_chars(number, text)
            and _is_national_prefix_present_if_required(number)
        ):
            return [(0, len(text))]
    return []
