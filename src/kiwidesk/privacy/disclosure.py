"""Warn before personal data leaves Kiwidesk for a party who did not provide it.

A value is the party's own when it is one of their addresses, when they wrote it to us
(any inbound message of theirs), or when we already sent it to them. Anything else the
detector finds in a draft is a disclosure the agent confirms before it goes: the
customer's phone number in an email to a restaurant, a card number to the wrong
thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Direction, Message, Thread
from kiwidesk.contacts.models import Identity
from kiwidesk.pii import detect
from kiwidesk.pii.redaction import LABELS
from kiwidesk.privacy import audit
from kiwidesk.privacy.models import AuditOutcome

ACTION = "pii.disclose"
# How far back the party's own messages are read for values they gave us.
HISTORY = 500
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Disclosure:
    """One value in a draft that the recipient did not give us."""

    type: str
    start: int
    end: int
    value: str

    @property
    def label(self) -> str:
        return LABELS.get(self.type, self.type)

    @property
    def masked(self) -> str:
        """Enough of the value to recognise it in a warning, not to copy it."""
        visible = self.value[-4:] if len(self.value) > 6 else ""
        return f"{'•' * 4}{visible}"


class DisclosureNotConfirmedError(ValueError):
    """The draft holds personal data the recipient did not provide; confirm to send."""

    def __init__(self, disclosures: list[Disclosure]) -> None:
        super().__init__(disclosures)
        self.disclosures = disclosures

    def __str__(self) -> str:
        kinds = ", ".join(dict.fromkeys(d.label for d in self.disclosures))
        return (
            f"This message holds personal data the recipient did not give us ({kinds}). "
            "Check it may go to them, then confirm to send."
        )


def disclosures(thread: Thread, text: str) -> list[Disclosure]:
    """The findings in `text` that `thread`'s party did not provide."""
    findings = detect(text)
    if not findings:
        return []
    known = _known_to_party(thread)
    found = []
    for finding in findings:
        value = text[finding.start : finding.end]
        if _normal(value) not in known:
            found.append(Disclosure(finding.type, finding.start, finding.end, value))
    return found


def check_disclosure(thread: Thread, text: str, *, confirmed: bool) -> list[Disclosure]:
    """Refuse an unconfirmed disclosure; return the confirmed ones for `record_disclosure`."""
    found = disclosures(thread, text)
    if found and not confirmed:
        raise DisclosureNotConfirmedError(found)
    return found


def record_disclosure(agent: Agent, thread: Thread, found: list[Disclosure]) -> None:
    """Audit a confirmed disclosure once the message is queued: the types, never values."""
    if found:
        kinds = ",".join(sorted({d.type for d in found}))
        audit.record(agent, ACTION, "thread", thread.pk, AuditOutcome.GRANTED, kinds)


def _known_to_party(thread: Thread) -> str:
    """One normalised haystack of every value the party gave us or got from us."""
    if thread.contact_id is None:
        return ""
    identities = Identity.objects.filter(contact_id=thread.contact_id).values_list(
        "value", flat=True
    )
    theirs = Message.objects.filter(
        author_contact_id=thread.contact_id, direction=Direction.INBOUND
    ).order_by("-created_at")[:HISTORY]
    ours = Message.objects.filter(thread=thread, direction=Direction.OUTBOUND).order_by(
        "-created_at"
    )[:HISTORY]
    texts = [*identities]
    for message in [*theirs, *ours]:
        texts.append(message.body_text)
        texts.append(message.full_text)
    return "\n".join(_normal(text) for text in texts)


def _normal(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())
