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

from kiwidesk.privacy.pii.finding import PHONE

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
_DATE_SHAPE: Final = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?!\d)[ .]*")


def find_phones_in_digit_run(
    text: str, start: int, end: int, regions: Sequence[str] = DEFAULT_REGIONS
) -> Iterator[tuple[str, int, int]]:
    """Phone numbers in `text[start:end]`, a run of digits and separators."""
    if start > 0 and text[start - 1] in "+(":
        start -= 1
    date = _DATE_SHAPE.match(text, start, end)
    if date is not None:
        start = date.end()
    candidate = text[start:end]
    if sum(char.isdigit() for char in candidate) < _MIN_DIGITS or _CARD_SHAPE.search(candidate):
        return
    if _NOT_A_PHONE_CUE.search(text, max(0, start - _CUE_REACH), start):
        return
    for number_start, number_end in _numbers_in(candidate, regions):
        # The matcher may return a span with the space before the number.
        value = candidate[number_start:number_end]
        leading = len(value) - len(value.lstrip())
        yield PHONE, start + number_start + leading, start + number_start + len(value.rstrip())


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
