from __future__ import annotations

import pytest

from kiwidesk.pii import detect


def found(text: str) -> list[tuple[str, str]]:
    """The findings in `text` as (type, value) pairs, in order."""
    return [(finding.type, text[finding.start : finding.end]) for finding in detect(text)]


def test_email_address_is_found_without_the_full_stop_after_it():
    assert found("Write to jane.doe+billing@example.co.uk.") == [
        ("email", "jane.doe+billing@example.co.uk")
    ]


def test_at_sign_without_an_address_is_not_an_email():
    assert found("Meet me @ the office, or @home.") == []


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444", "3782 822463 10005"],
)
def test_payment_card_that_passes_luhn_is_found(number):
    assert found(f"My card is {number}, please refund it.") == [("payment_card", number)]


def test_card_number_that_fails_luhn_is_not_a_card():
    assert found("My card is 4111 1111 1111 1112.") == []


def test_luhn_valid_number_outside_every_card_range_is_not_a_card():
    # 9 is no issuer's first digit; 9000000000000009 passes Luhn.
    assert found("Reference 9000000000000009.") == []


def test_expiry_after_a_card_number_is_not_part_of_it():
    assert found("Card 4111 1111 1111 1111 12/26") == [("payment_card", "4111 1111 1111 1111")]


@pytest.mark.parametrize(
    "iban", ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "gb42nawi04454264788619"]
)
def test_iban_with_a_valid_checksum_is_found(iban):
    assert found(f"Refund to {iban} please") == [("iban", iban)]


def test_iban_with_a_wrong_checksum_is_not_found():
    assert found("Refund to GB83 WEST 1234 5698 7654 32 please") == []


def test_two_ibans_in_a_row_are_found_separately():
    text = "GB82 WEST 1234 5698 7654 32 AND DE89370400440532013000"

    assert found(text) == [
        ("iban", "GB82 WEST 1234 5698 7654 32"),
        ("iban", "DE89370400440532013000"),
    ]


@pytest.mark.parametrize("ssn", ["536-90-4399", "536 90 4399"])
def test_us_social_security_number_is_found(ssn):
    assert found(f"SSN {ssn} for the form") == [("us_ssn", ssn)]


@pytest.mark.parametrize(
    "ssn", ["000-12-3456", "666-12-3456", "912-12-3456", "536-00-4399", "536-90-0000"]
)
def test_ssn_the_ssa_never_issues_is_not_found(ssn):
    assert found(f"SSN {ssn} for the form") == []


@pytest.mark.parametrize("nhs_number", ["943 476 5919", "9434765919", "123 456 7881"])
def test_nhs_number_with_a_valid_check_digit_is_found(nhs_number):
    assert found(f"My NHS number is {nhs_number}.") == [("uk_nhs_number", nhs_number)]


def test_nhs_number_with_a_wrong_check_digit_is_not_found():
    # 123 456 7881 is valid; no US phone number starts with 1, so nothing else claims it.
    assert found("My NHS number is 123 456 7882.") == []


@pytest.mark.parametrize("tax_id", ["36 574 261 809", "36574261809"])
def test_german_tax_id_with_a_valid_check_digit_is_found(tax_id):
    assert found(f"Steuer-ID {tax_id}.") == [("de_tax_id", tax_id)]


def test_german_tax_id_with_a_wrong_check_digit_is_not_found():
    assert found("Steuer-ID 36574261808.") == []


@pytest.mark.parametrize(
    "number", ["+44 20 7946 0958", "(415) 555-0132", "030 12345678", "+49 30 1234567"]
)
def test_phone_number_valid_in_a_default_region_is_found(number):
    assert found(f"Call me on {number} today.") == [("phone", number)]


def test_order_number_is_not_a_phone_number():
    assert found("Order #89799778 shipped.") == []


def test_iso_date_and_time_are_not_a_phone_number():
    assert found("Date: 2015-12-22 04:34:22") == []


def test_phone_regions_are_a_parameter():
    french = "Appelez le 01 42 68 53 00."

    assert [finding.type for finding in detect(french, regions=("FR",))] == ["phone"]


@pytest.mark.parametrize("address", ["192.168.1.20", "2001:db8::8a2e:370:7334", "::1"])
def test_ip_address_is_found(address):
    assert found(f"The login came from {address} today") == [("ip_address", address)]


@pytest.mark.parametrize("text", ["version 1.2.3 released", "at 10:30:00", "256.1.1.1 is not one"])
def test_numbers_shaped_almost_like_an_ip_address_are_not_found(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    ["Tracking number 032820641141 is stuck", "Order #07588532 shipped", "Rechnung Nr. 07401393"],
)
def test_number_after_an_order_or_tracking_word_is_not_a_phone_number(text):
    assert found(text) == []


def test_mistyped_card_number_is_not_read_as_a_phone_number():
    assert found("This card does not work: 4938 6704 7693 8055") == []


def test_second_of_two_numbers_in_one_run_is_found_without_the_space_before_it():
    # 0171 234567 is one digit short of a German mobile number.
    assert found("Call 0171 234567 / 0172 3456789") == [("phone", "0172 3456789")]


def in_script(number: str, zero: int) -> str:
    return number.translate(str.maketrans("0123456789", "".join(chr(zero + d) for d in range(10))))


def test_digits_of_other_scripts_are_not_read_as_numbers():
    arabic_indic, fullwidth = 0x0660, 0xFF10
    ssn, card = in_script("536-90-4399", arabic_indic), in_script("4111111111111111", fullwidth)
    text = f"SSN {ssn} card {card}"

    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Phone:\n60-56-85-91", "60-56-85-91"),
        ("Can someone call me on 01.84.17.61.18? I have questions.", "01.84.17.61.18"),
        ("Mobile: 723 813 266", "723 813 266"),
        ("(37) 788-063-Office", "(37) 788-063"),
        ("Desk: +1-984-182-0190", "+1-984-182-0190"),
    ],
)
def test_number_given_as_a_phone_number_is_found_even_where_no_region_knows_it(text, number):
    assert found(text) == [("phone", number)]


@pytest.mark.parametrize(
    "text",
    ["My driver's license number is 6940579", "my credit card number is 675984103431?"],
)
def test_a_number_named_as_something_else_is_not_taken_for_a_phone_number(text):
    assert found(text) == []


def test_a_day_month_year_date_is_still_not_a_phone_number():
    assert found("Date: 22.12.2015 04:34:22") == []
