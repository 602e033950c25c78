"""Show text with its personal data masked: the pieces a redacted view is made of.

Findings come as stored on a message (`[[type, start, end], ...]`) or as `Finding`s.
Pure, like the detector.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiwidesk.pii.finding import Finding

LABELS = {
    "email": "email address",
    "phone": "phone number",
    "payment_card": "card number",
    "iban": "IBAN",
    "us_ssn": "SSN",
    "uk_nhs_number": "NHS number",
    "de_tax_id": "tax id",
    "ip_address": "IP address",
    "date_of_birth": "date of birth",
    "postal_address": "postal address",
}


@dataclass(frozen=True, slots=True)
class Piece:
    """Plain text (`type` empty), or the `index`-th finding, masked, of type `type`."""

    text: str
    type: str = ""
    index: int = -1

    @property
    def label(self) -> str:
        return LABELS.get(self.type, self.type.replace("_", " "))


def as_findings(stored: Iterable[Sequence[object]]) -> list[Finding]:
    """Stored `[type, start, end]` triples back as Findings, bad entries skipped."""
    findings = []
    for entry in stored:
        if len(entry) != 3:
            continue
        kind, start, end = entry
        if isinstance(kind, str) and isinstance(start, int) and isinstance(end, int):
            findings.append(Finding(start, end, kind))
    return findings


def pieces(text: str, findings: Sequence[Finding]) -> list[Piece]:
    """Split `text` into plain runs and masked findings, in order.

    A finding that does not fit the text (the text changed since it was scanned)
    masks to the end of the text rather than leaking what follows it.
    """
    out: list[Piece] = []
    position = 0
    for index, finding in enumerate(sorted(findings)):
        start = max(finding.start, position)
        if start >= len(text):
            break
        if start > position:
            out.append(Piece(text[position:start]))
        end = min(max(finding.end, start), len(text))
        out.append(Piece("", finding.type, index))
        position = end
    if position < len(text):
        out.append(Piece(text[position:]))
    return out


def redact(text: str, findings: Sequence[Finding]) -> str:
    """The text with each finding replaced by `[its type]`."""
    return "".join(piece.text or f"[{piece.label}]" for piece in pieces(text, findings))


def value_of(text: str, findings: Sequence[Finding], index: int) -> str:
    """The original value of the `index`-th finding (in sorted order); IndexError if none."""
    ordered = sorted(findings)
    if not 0 <= index < len(ordered):
        raise IndexError(index)
    finding = ordered[index]
    return text[finding.start : finding.end]
