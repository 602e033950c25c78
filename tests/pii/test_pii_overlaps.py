from __future__ import annotations

from kiwidesk.pii import Finding, detect


def found(text: str) -> list[tuple[str, str]]:
    """The findings in `text` as (type, value) pairs, in order."""
    return [(finding.type, text[finding.start : finding.end]) for finding in detect(text)]


def test_findings_are_character_offsets_after_non_ascii_text():
    text = "Grüße aus Köln → 🎉 Mail: jane@example.com"

    findings = detect(text)

    assert findings == [Finding(start=25, end=41, type="email")]
    assert text[25:41] == "jane@example.com"


def test_international_phone_number_is_not_split_into_an_nhs_number():
    # "415 555 0132" alone might pass the NHS check; the number with its country code wins.
    assert found("Call +1 415 555 0132 now") == [("phone", "+1 415 555 0132")]


def test_card_number_is_one_finding_not_a_phone_number_too():
    assert found("Card 4111111111111111 was declined") == [("payment_card", "4111111111111111")]


def test_address_never_overlaps_a_more_specific_finding():
    text = "born 12 Main St, Springfield, IL 62704"

    assert [kind for kind, _ in found(text)] == ["postal_address"]


def test_findings_come_in_text_order():
    text = "IP 10.0.0.1, mail a@example.org, SSN 536-90-4399"

    assert [kind for kind, _ in found(text)] == ["ip_address", "email", "us_ssn"]


def test_finding_as_json_has_type_start_and_end():
    assert Finding(start=3, end=9, type="email").as_json() == {
        "type": "email",
        "start": 3,
        "end": 9,
    }


def test_international_phone_number_that_passes_luhn_is_a_phone_not_a_card():
    assert found("Call me on +4915133549563 after 5pm.") == [("phone", "+4915133549563")]
