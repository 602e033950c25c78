"""Import every message of a local mailbox through ingest (`kiwidesk import-mail`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kiwidesk.accounts.models import Team
from kiwidesk.channels.email.adapter import CHANNEL, UnparseableMessageError, digest_id, parse
from kiwidesk.channels.email.mailboxes import LocalMailbox
from kiwidesk.ingest.services import IngestResult, UnroutableMessageError, ingest, quarantine


@dataclass(frozen=True)
class ImportSummary:
    read: int
    stored: int
    duplicates: int
    new_cases: int
    quarantined: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


def import_mailbox(
    mailbox: LocalMailbox,
    *,
    source: str,
    team: Team | None = None,
    progress: Callable[[int], object] = lambda done: None,
) -> ImportSummary:
    """Parse and ingest each message; quarantine what cannot become a message.

    Idempotent: ingest recognises (source, Message-ID) it stored before, so a second
    run over the same mailbox stores nothing new. New cases go to `team` when given.
    """
    counts = {"read": 0, "stored": 0, "duplicates": 0, "new_cases": 0, "quarantined": 0}
    started = time.perf_counter()
    for mail in mailbox:
        counts["read"] += 1
        # An archive arrives all at once: the per-sender rate limit, which stops live
        # mail loops, would quarantine every busy correspondent of an import.
        result = import_message(mail.raw, source=source, team=team, enforce_rate_limit=False)
        if result is None:
            counts["quarantined"] += 1
        elif result.duplicate:
            counts["duplicates"] += 1
        else:
            counts["stored"] += 1
            counts["new_cases"] += result.created_case
        progress(1)
    return ImportSummary(**counts, seconds=time.perf_counter() - started)


def import_message(
    raw: bytes, *, source: str, team: Team | None, enforce_rate_limit: bool
) -> IngestResult | None:
    """Parse and ingest one raw mail, or quarantine it and return None.

    The one parse → ingest → quarantine step of every mail source (import-mail, IMAP).
    Raises only what ingest raises besides UnroutableMessageError (a database error).
    """
    try:
        message = parse(raw, source)
    except UnparseableMessageError as exc:
        # Keyed by the bytes' digest, so importing the same mailbox again keeps one copy.
        quarantine(
            raw,
            channel=CHANNEL,
            source=source,
            reason=f"unparseable: {exc.reason}",
            external_id=digest_id(raw),
        )
        return None
    try:
        return ingest(message, team=team, enforce_rate_limit=enforce_rate_limit)
    except UnroutableMessageError as exc:
        quarantine(
            raw,
            channel=CHANNEL,
            source=source,
            reason=f"{exc.reason}: {exc.detail}",
            external_id=message.external_id,
        )
        return None
