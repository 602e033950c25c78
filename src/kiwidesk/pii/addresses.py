"""Postal addresses of three shapes: UK postcodes, US street + ZIP, German street + PLZ + city.

Free-form addresses ("the flat above the bakery") and other countries are not found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from kiwidesk.pii.finding import POSTAL_ADDRESS

Span = tuple[str, int, int]

# How far before its postcode a German street name may start.
_DE_STREET_REACH: Final = 60

# A cheap shape first; the exact postcode rules only on what it finds.
_UK_POSTCODE_HINT: Final = re.compile(r"[A-Z][A-Z\d]{1,3} ?\d[A-Z]{2}\b")
_UK_POSTCODE: Final = re.compile(
    r"\b(?:GIR ?0AA|(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|[A-PR-UWYZ]\d[A-HJKPSTUW]) ?"
    r"\d[ABD-HJLNP-UW-Z]{2})\b"
)
_WORD: Final = r"[A-Z][a-z]+\.?"
_US_STREET: Final = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
    r"Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl)\b\.?"
)
_US_ADDRESS: Final = re.compile(
    r"\d{1,6} (?:[NSEW]\.? )?"
    + _WORD
    + r"(?: "
    + _WORD
    + r"){0,3} "
    + _US_STREET
    + r"(?:,? (?:Apt|Suite|Ste|Unit|#)\.? ?\w{1,6})?"
    r"(?:,? " + _WORD + r"(?: " + _WORD + r"){0,2},? [A-Z]{2},? \d{5}(?:-\d{4})?(?!\d))?"
)
_DE_STREET_TYPES: Final = "straße|strasse|str\\.|weg|platz|allee|gasse|ring|damm|ufer|markt"
_DE_ADDRESS: Final = re.compile(
    # "Musterstraße 12", "Berliner Straße 12", "Am Markt 3" are all streets.
    r"(?:[A-ZÄÖÜ][a-zäöüß-]+ )?"
    r"(?:[A-ZÄÖÜ][a-zäöüß-]*(?:" + _DE_STREET_TYPES + r")"
    r"|(?:" + _DE_STREET_TYPES.title() + r"))"
    r" \d{1,4}(?: ?[a-z])?,? (?:D-)?(?P<plz>\d{5}) [A-ZÄÖÜ][a-zäöüß]+(?:[ -][A-ZÄÖÜ][a-zäöüß]+)?"
)


def find_uk_postcodes(text: str) -> Iterator[Span]:
    for hint in _UK_POSTCODE_HINT.finditer(text):
        match = _UK_POSTCODE.search(text, max(0, hint.start() - 1), hint.end())
        if match is not None:
            yield POSTAL_ADDRESS, match.start(), match.end()


def find_us_address_at(text: str, start: int) -> Iterator[Span]:
    """The US street address whose house number starts at `start`, if any."""
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "-"):
        return
    match = _US_ADDRESS.match(text, start)
    if match is not None:
        yield POSTAL_ADDRESS, start, match.end()


def find_de_address_around(text: str, postcode_start: int) -> Iterator[Span]:
    """The German address whose five-digit postcode starts at `postcode_start`, if any."""
    window_start = max(0, postcode_start - _DE_STREET_REACH)
    for match in _DE_ADDRESS.finditer(text, window_start, postcode_start + _DE_STREET_REACH):
        if match.start("plz") == postcode_start and _starts_a_word(text, match.start()):
            yield POSTAL_ADDRESS, match.start(), match.end()
            return


def _starts_a_word(text: str, index: int) -> bool:
    return index == 0 or not text[index - 1].isalpha()
