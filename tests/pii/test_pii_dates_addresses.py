from __future__ import annotations

import pytest

from kiwidesk.pii import detect


def found(text: str) -> list[tuple[str, str]]:
    """The findings in `text` as (type, value) pairs, in order."""
    return [(finding.type, text[finding.start : finding.end]) for finding in detect(text)]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("I was born on 3 April 1987.", "3 April 1987"),
        ("DOB: 03/04/1987", "03/04/1987"),
        ("Date of birth 1987-04-03, thanks", "1987-04-03"),
        ("my birthday is April 3rd, 1987", "April 3rd, 1987"),
        ("geb. 03.04.1987 in Hamburg", "03.04.1987"),
    ],
)
def test_date_after_a_birth_cue_is_a_date_of_birth(text, date):
    assert found(text) == [("date_of_birth", date)]


def test_date_without_a_cue_is_not_a_date_of_birth():
    assert found("The parcel arrived on 3 April 1987.") == []


def test_date_that_does_not_exist_is_not_a_date_of_birth():
    assert found("DOB: 31/31/1987") == []


def test_date_in_the_future_is_not_a_date_of_birth():
    assert found("born 3 April 2999") == []


def test_uk_postcode_is_an_address():
    assert found("Send it to London SW1A 2AA please") == [("postal_address", "SW1A 2AA")]


def test_us_street_address_with_zip_is_an_address():
    text = "Ship to 123 Main St, Springfield, IL 62704 by Friday"

    assert found(text) == [("postal_address", "123 Main St, Springfield, IL 62704")]


def test_german_street_postcode_and_city_is_an_address():
    text = "Lieferung an Musterstraße 12, 10115 Berlin bitte"

    assert found(text) == [("postal_address", "Musterstraße 12, 10115 Berlin")]


def test_five_digit_number_without_a_street_is_not_an_address():
    assert found("We have 10115 open tickets in Berlin") == []


def test_german_street_of_two_words_is_an_address():
    text = "Lieferung an Berliner Straße 12, 10115 Berlin."

    assert found(text) == [("postal_address", "Berliner Straße 12, 10115 Berlin")]


def test_letters_that_only_fold_to_a_month_name_are_not_a_month():
    long_s = "\u017f"  # folds to "s" under case-insensitive matching

    assert found(f"born 3 {long_s}eptember 1987") == []
