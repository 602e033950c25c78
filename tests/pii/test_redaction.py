from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kiwidesk.pii import Finding, detect
from kiwidesk.pii.redaction import as_findings, pieces, redact, value_of

TEXT = "Call me on +44 20 7946 0958 or write to ana.silva@example.org, thanks"


def test_redact_masks_each_value_by_its_type():
    findings = detect(TEXT)

    assert redact(TEXT, findings) == "Call me on [phone number] or write to [email address], thanks"
    assert value_of(TEXT, findings, 1) == "ana.silva@example.org"


def test_stored_triples_round_trip_and_bad_entries_are_skipped():
    stored = [["email", 39, 60], ["phone"], [1, 2, 3], ["phone", "11", 27]]

    assert as_findings(stored) == [Finding(39, 60, "email")]


def test_a_finding_past_the_end_of_a_changed_text_masks_to_the_end():
    assert redact("short", [Finding(2, 40, "email")]) == "sh[email address]"
    assert redact("short", [Finding(10, 20, "email")]) == "short"


@given(st.text(max_size=200), st.lists(st.tuples(st.integers(0, 220), st.integers(0, 60))))
def test_no_character_of_a_finding_survives_redaction(text, spans):
    findings = [Finding(start, start + length, "email") for start, length in spans]

    shown = "".join(piece.text for piece in pieces(text, findings))

    masked = set()
    for finding in findings:
        masked.update(range(finding.start, min(finding.end, len(text))))
    assert shown == "".join(char for i, char in enumerate(text) if i not in masked)
