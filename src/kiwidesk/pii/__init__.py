"""Detection of personal data in message text: `detect(text) -> list[Finding]`.

Pure: no Django, no database, no settings; see README.md for the rules.
"""

from __future__ import annotations

from kiwidesk.pii.detector import detect
from kiwidesk.pii.finding import TYPES, Finding

__all__ = ["TYPES", "Finding", "detect"]
