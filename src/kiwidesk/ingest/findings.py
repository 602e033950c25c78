"""The personal data in an inbound message's stored text, as Message.pii holds it.

Found by `kiwidesk.pii.detect` over the text ingest stores (`body_text`). An import's
parse workers find it ahead (`found_ahead`), off the one writer's path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.services import _fit, _text
from kiwidesk.pii import detect


def pii_rows(text: str) -> list[list[Any]]:
    """[[type, start, end], ...] of the personal data in `text`."""
    return [[finding.type, finding.start, finding.end] for finding in detect(text)]


def stored_pii(message: InboundMessage, text: str) -> list[list[Any]]:
    """Message.pii for `message` stored with `text`: the findings made ahead, else found now."""
    if message.pii is not None:
        return [list(finding) for finding in message.pii]
    return pii_rows(text)


def found_ahead(message: InboundMessage) -> InboundMessage:
    """`message` carrying the personal data of the text ingest will store for it."""
    text = _text(_fit(message))
    found = tuple((kind, start, end) for kind, start, end in pii_rows(text))
    return replace(message, pii=found)
