"""Validation of candidate values: a match is only personal data if its check digits agree.

Pure functions of the candidate text, so each can be tested on its own.
"""

from __future__ import annotations

import ipaddress

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr
from stdnum.gb import nhs
from stdnum.us import ssn

# (first digits, lengths) of the issuer ranges in use; a Luhn-valid number outside them is
# more likely an order or tracking number than a card.
_CARD_RANGES: tuple[tuple[range, int, frozenset[int]], ...] = (
    (range(4, 5), 1, frozenset({13, 16, 19})),  # Visa
    (range(51, 56), 2, frozenset({16})),  # Mastercard
    (range(2221, 2721), 4, frozenset({16})),  # Mastercard 2-series
    (range(34, 35), 2, frozenset({15})),  # American Express
    (range(37, 38), 2, frozenset({15})),  # American Express
    (range(6011, 6012), 4, frozenset({16, 17, 18, 19})),  # Discover
    (range(644, 650), 3, frozenset({16, 17, 18, 19})),  # Discover
    (range(65, 66), 2, frozenset({16, 17, 18, 19})),  # Discover
    (range(3528, 3590), 4, frozenset({16, 17, 18, 19})),  # JCB
    (range(1800, 1801), 4, frozenset({15})),  # JCB (legacy)
    (range(2131, 2132), 4, frozenset({15})),  # JCB (legacy)
    (range(300, 306), 3, frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    (range(36, 37), 2, frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    (range(38, 40), 2, frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    (range(62, 63), 2, frozenset({16, 17, 18, 19})),  # UnionPay
    (range(50, 51), 2, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro
    (range(56, 59), 2, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro
    (range(63, 64), 2, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro, InstaPayment
    (range(67, 68), 2, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro
    (range(60, 61), 2, frozenset({16, 17, 18, 19})),  # RuPay, Maestro
    (range(2200, 2205), 4, frozenset({16, 17, 18, 19})),  # Mir
)


def digits_of(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def is_payment_card(text: str) -> bool:
    number = digits_of(text)
    if not 13 <= len(number) <= 19 or not luhn.is_valid(number):
        return False
    return any(
        int(number[:width]) in prefixes and len(number) in lengths
        for prefixes, width, lengths in _CARD_RANGES
    )


def is_iban(text: str) -> bool:
    return bool(stdnum_iban.is_valid(text.upper()))


def is_uk_nhs_number(text: str) -> bool:
    return bool(nhs.is_valid(digits_of(text)))


def is_de_tax_id(text: str) -> bool:
    return bool(idnr.is_valid(digits_of(text)))


def is_us_ssn(text: str) -> bool:
    number = digits_of(text)
    # stdnum also refuses the numbers the SSA published in advertising (078-05-1120, ...).
    return len(number) == 9 and bool(ssn.is_valid(number))


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
