"""`detect(text)`: every piece of personal data found in a text, sorted and non-overlapping."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from typing import Final

from kiwidesk.pii.addresses import (
    find_de_address_around,
    find_uk_postcodes,
    find_us_address_at,
)
from kiwidesk.pii.dates import find_dates_of_birth
from kiwidesk.pii.finding import (
    DATE_OF_BIRTH,
    DE_TAX_ID,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    PAYMENT_CARD,
    PHONE,
    POSTAL_ADDRESS,
    UK_NHS_NUMBER,
    US_SSN,
    Finding,
)
from kiwidesk.pii.phones import DEFAULT_REGIONS, find_phones_in_digit_run
from kiwidesk.pii.structured import (
    Span,
    find_emails,
    find_iban_at,
    find_in_digit_run,
    find_ipv6,
)

# The one pre-scan: runs of digits and separators ("+44 (0)20 7946-0958").
# Every numeric type is looked for only inside a run, so prose without digits costs one pass.
# ASCII digits only: the checks below and python-stdnum expect 0-9, not Arabic-Indic or
# full-width digits.
# Between digits: one space or dot, a dash or slash with a space either side, or a
# parenthesis; two spaces end a run ("12345678920  (415) 200-0000" are two numbers).
_DIGIT_RUN: Final = re.compile(r"[0-9](?:(?: ?[-/()] ?| ?\)\(| |\.)?[0-9])*")
# Shorter runs cannot hold a phone number, a card, an id or an IPv4 address ("1.2.3.4").
_SHORTEST_NUMBER: Final = 7
_GERMAN_POSTCODE_LENGTH: Final = 5

# Checked values (a checksum, an address family) come first: a phone number found
# across a run of digits never hides the card or SSN inside it. Among equals the longer
# finding wins, and on a tie in length the stricter check.
_SPECIFICITY: Final = {
    PAYMENT_CARD: (0, 0),
    IBAN: (0, 1),
    UK_NHS_NUMBER: (0, 2),
    DE_TAX_ID: (0, 3),
    US_SSN: (0, 4),
    EMAIL: (0, 5),
    IP_ADDRESS: (0, 6),
    DATE_OF_BIRTH: (1, 7),
    PHONE: (1, 8),
    POSTAL_ADDRESS: (2, 9),
}


def detect(text: str, *, regions: Sequence[str] = DEFAULT_REGIONS) -> list[Finding]:
    """Personal data in `text`, as character offsets; phone numbers are read as from `regions`."""
    spans: list[Span] = [*find_emails(text), *find_ipv6(text), *find_dates_of_birth(text)]
    addresses: list[Span] = list(find_uk_postcodes(text))
    for run in _DIGIT_RUN.finditer(text):
        start, end = run.span()
        if end - start >= _SHORTEST_NUMBER:
            spans += find_in_digit_run(text, start, end)
            spans += find_phones_in_digit_run(text, start, end, regions)
        if start >= 2 and text[start - 2 : start].isalpha():
            spans += find_iban_at(text, start - 2)
        if text.startswith(" ", end):
            addresses += find_us_address_at(text, start)
        if end - start == _GERMAN_POSTCODE_LENGTH:
            addresses += find_de_address_around(text, start)
    kept = _without_overlaps(spans)
    # An address is the least specific finding: it only fills the gaps the others leave.
    kept += _without_overlaps(addresses, taken=kept)
    return sorted(kept)


def _without_overlaps(spans: Iterable[Span], taken: Sequence[Finding] = ()) -> list[Finding]:
    """The spans, most specific first, each kept if it overlaps nothing kept before.

    The kept spans never overlap, so in start order only the two neighbours of a new
    span can touch it: a bisection per span, not a comparison with every kept one
    (a long attachment has thousands of findings).
    """
    occupied = sorted((finding.start, finding.end) for finding in taken)
    starts = [start for start, _ in occupied]
    ends = [end for _, end in occupied]
    kept: list[Finding] = []
    for kind, start, end in sorted(spans, key=_rank):
        at = bisect.bisect_right(starts, start)
        if at > 0 and ends[at - 1] > start:
            continue
        if at < len(starts) and starts[at] < end:
            continue
        starts.insert(at, start)
        ends.insert(at, end)
        kept.append(Finding(start=start, end=end, type=kind))
    return kept


def _rank(span: Span) -> tuple[int, int, int, int]:
    kind, start, end = span
    tier, strictness = _SPECIFICITY[kind]
    return tier, start - end, strictness, start
