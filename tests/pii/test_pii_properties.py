from __future__ import annotations

import itertools

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.iso7064 import mod_11_10

from kiwidesk.pii import Finding, detect

# Filler that cannot itself hold personal data next to a value: letters and spaces only,
# so a generated value's neighbours never extend or split it.
filler = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzäöüéß ,;!?\n"), max_size=40)
words = st.builds(lambda text: f" {text} ", filler)


def nhs_number(body: str) -> str:
    check = 11 - sum(int(digit) * (10 - index) for index, digit in enumerate(body)) % 11
    return f"{body[:3]} {body[3:6]} {body[6:]}{0 if check == 11 else check}"


def german_iban(account: str) -> str:
    check = 98 - int(account + "131400") % 97  # "DE" is 13 14 in the mod-97 alphabet
    return f"DE{check:02d}{account}"


def de_tax_id(order: list[str], repeated: int) -> str:
    digits = [*order[:9], order[repeated]]
    value = "".join(digits)
    return value + mod_11_10.calc_check_digit(value)


cards = st.text(alphabet="0123456789", min_size=14, max_size=14).map(
    lambda body: "4" + body + luhn.calc_check_digit("4" + body)
)
ssns = st.tuples(
    st.integers(1, 665) | st.integers(667, 899), st.integers(1, 99), st.integers(1, 9999)
).map(lambda parts: f"{parts[0]:03d}-{parts[1]:02d}-{parts[2]:04d}")
nhs_numbers = (
    st.text(alphabet="0123456789", min_size=9, max_size=9)
    .map(nhs_number)
    .filter(lambda value: len(value) == 12)
)
tax_ids = st.tuples(
    st.permutations("1234567890").filter(lambda order: order[0] != "0"), st.integers(1, 8)
).map(lambda parts: de_tax_id(list(parts[0]), parts[1]))
ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.ip_addresses(v=6).map(str)
german_ibans = st.text(alphabet="0123456789", min_size=18, max_size=18).map(german_iban)
us_phones = (
    st.integers(0, 9_999_999)
    .map(lambda line: f"(415) {line // 10_000:03d}-{line % 10_000:04d}")
    .filter(lambda number: phonenumbers.is_valid_number(phonenumbers.parse(number, "US")))
)
emails = st.from_regex(
    r"[a-z][a-z0-9.]{0,10}[a-z0-9]@[a-z]{2,10}\.(com|org|de|co\.uk)", fullmatch=True
)

VALUES = {
    "payment_card": cards,
    "us_ssn": ssns,
    "uk_nhs_number": nhs_numbers,
    "de_tax_id": tax_ids,
    "ip_address": ipv4s | ipv6s,
    "email": emails,
    "iban": german_ibans,
    "phone": us_phones,
}


@given(st.text())
def test_findings_are_sorted_in_range_and_never_overlap(text):
    findings = detect(text)

    assert findings == sorted(findings)
    assert all(0 <= finding.start < finding.end <= len(text) for finding in findings)
    assert all(one.end <= other.start for one, other in itertools.pairwise(findings))


@given(st.text(alphabet="0123456789 -./+()@:abcdefABCDEF\n", max_size=200))
def test_findings_never_overlap_in_digit_heavy_text(text):
    findings = detect(text)

    assert all(one.end <= other.start for one, other in itertools.pairwise(findings))


@given(st.data(), st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=4))
def test_valid_values_in_random_text_are_found_at_their_exact_offsets(data, kinds):
    text, expected = data.draw(words), []
    for kind in kinds:
        value = data.draw(VALUES[kind])
        expected.append(Finding(start=len(text), end=len(text) + len(value), type=kind))
        text += value + data.draw(words)

    assert detect(text) == expected
