"""What a channel adapter hands to ingest: one parsed inbound message, whatever the channel.

Adapters verify and parse; they know nothing of cases. Ingest is the only writer of
inbound messages (ARCHITECTURE.md, "The two flows").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kiwidesk.cases.content import NewAttachment


@dataclass(frozen=True)
class Sender:
    """Who wrote: an identity kind (contacts.models.IdentityKind) and its raw value."""

    kind: str
    value: str
    name: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """One message as a channel delivered it, parsed but not yet routed.

    `source` names where it arrived (a mailbox, a Twilio number, a WhatsApp phone
    number id); with `external_id` (Message-ID, MessageSid, wamid) it is the
    idempotency key: the same pair is stored once, however often it is delivered.
    """

    channel: str
    source: str
    external_id: str
    sender: Sender
    text: str
    full_text: str = ""
    html: str = ""
    subject: str = ""
    recipients: tuple[str, ...] = ()
    attachments: tuple[NewAttachment, ...] = ()
    sent_at: datetime | None = None
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    reply_token: str = ""
    is_automated: bool = False
    forwarded_from: Sender | None = None
    raw: bytes = field(default=b"", repr=False)
    # The personal data in the text ingest stores, found ahead by an import's parse
    # worker ((type, start, end), as Message.pii); None: ingest finds it itself.
    pii: tuple[tuple[str, int, int], ...] | None = field(default=None, repr=False)
