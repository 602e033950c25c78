"""Dates of birth: a date is only a date of birth when a cue ("born", "DOB", ...) precedes it."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Final

from kiwidesk.pii.finding import DATE_OF_BIRTH

# How far after its cue a date may start: "DOB:", "born on the", "date of birth is".
_CUE_REACH: Final = 24
_OLDEST_YEAR: Final = 1900

# Starting with a character class lets the regex engine skip quickly to the candidates.
_CUE: Final = re.compile(
    r"[bdg](?:orn|\.?o\.?b\b\.?|ate of birth|irth ?date|irthday|eb\.|eboren|eburtsdatum)",
    re.IGNORECASE,
)
_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "januar", "jänner"),
            ("february", "feb", "februar"),
            ("march", "mar", "märz", "maerz"),
            ("april", "apr"),
            ("may", "mai"),
            ("june", "jun", "juni"),
            ("july", "jul", "juli"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct", "oktober", "okt"),
            ("november", "nov"),
            ("december", "dec", "dezember", "dez"),
        ),
        start=1,
    )
    for name in names
}
_MONTH: Final = "(?P<{}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE: Final = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<y1>[0-9]{4})-(?P<m1>[0-9]{1,2})-(?P<d1>[0-9]{1,2})"
    r"|(?P<d2>[0-9]{1,2})[./-](?P<m2>[0-9]{1,2})[./-](?P<y2>[0-9]{4})"
    r"|(?P<d3>[0-9]{1,2})(?:st|nd|rd|th)?\.?(?: of)? "
    + _MONTH.format("n3")
    + r",? (?P<y3>[0-9]{4})"
    r"|" + _MONTH.format("n4") + r" (?P<d4>[0-9]{1,2})(?:st|nd|rd|th)?,? (?P<y4>[0-9]{4})"
    r")(?![0-9])",
    re.IGNORECASE,
)


def find_dates_of_birth(text: str) -> Iterator[tuple[str, int, int]]:
    for cue in _CUE.finditer(text):
        if cue.start() > 0 and text[cue.start() - 1].isalnum():
            continue
        date = _DATE.search(text, cue.end(), cue.end() + _CUE_REACH + 30)
        if date is not None and date.start() - cue.end() <= _CUE_REACH and _is_real(date):
            yield DATE_OF_BIRTH, date.start(), date.end()


def _is_real(date: re.Match[str]) -> bool:
    parts = date.groupdict()
    for index in "1234":
        if parts[f"y{index}"] is None:
            continue
        year = int(parts[f"y{index}"])
        day = int(parts[f"d{index}"])
        month_text = parts.get(f"m{index}") or parts.get(f"n{index}") or ""
        # Case-insensitive matching also lets in letters that only fold to ASCII (the long s).
        month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower(), 0)
        return _exists(year, month, day)
    return False


def _exists(year: int, month: int, day: int) -> bool:
    # Numeric dates are ambiguous (03/04/1987): either reading being a real date is enough.
    today = datetime.datetime.now(tz=datetime.UTC).date()
    for month_, day_ in ((month, day), (day, month)):
        try:
            when = datetime.date(year, month_, day_)
        except ValueError:
            continue
        if when.year >= _OLDEST_YEAR and when <= today:
            return True
    return False
