"""Fetch mail from IMAP mailboxes into ingest: once, by polling, or woken by IDLE.

Each mailbox is read by UID, oldest first, with BODY.PEEK[] on a read-only SELECT, so
nothing on the server changes (no flag, no move, no delete). A message and the
mailbox's new `last_uid` commit in one transaction: a process killed before that
commit leaves neither, and the next fetch reads the UID again; ingest's receipt on
(source, Message-ID) would store it once even if they did not commit together.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError, ProtocolError

from kiwidesk.channels.email.adapter import CHANNEL, digest_id
from kiwidesk.channels.email.importer import import_message
from kiwidesk.channels.email.models import Mailbox
from kiwidesk.envconfig import ConfigError, env_secret
from kiwidesk.ingest.services import IngestResult, quarantine

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 30.0
# Mail that lands between our last SEARCH and the IDLE command is not announced by
# every server (Dovecot 2.3 waits for its next check, 30 s by default), and a long
# fetch widens that gap: IDLE is re-issued this often, with a SEARCH in between, so
# such mail still shows within seconds. It also keeps NAT boxes from dropping us.
IDLE_RENEW_SECONDS = 5.0
# How long an IDLE wait blocks before looking at the stop flag: the shutdown delay.
STOP_CHECK_SECONDS = 1.0
# How often the watcher looks for mailboxes added or switched on in the admin.
REFRESH_SECONDS = 30.0
MAX_THREADS = 32

_T = TypeVar("_T")
_BYTES_REPR = re.compile(r"b'(.*)'")


class MailboxError(Exception):
    """A mailbox cannot be read as configured (no password, login refused)."""


# What a mailbox's fetch can fail with, recorded on it as `last_error`; anything else
# is a bug and keeps its traceback in the log.
FETCH_ERRORS = (MailboxError, IMAPClientError, ProtocolError, OSError, ConfigError, DatabaseError)


@dataclass(frozen=True)
class FetchSummary:
    """What one fetch of one mailbox did."""

    mailbox: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"{self.mailbox}: error: {self.error}"
        return (
            f"{self.mailbox}: {self.fetched} fetched, {self.stored} stored, "
            f"{self.duplicates} duplicates, {self.quarantined} quarantined"
        )

    def counted(self, result: IngestResult | None) -> FetchSummary:
        if result is None:
            return replace(self, fetched=self.fetched + 1, quarantined=self.quarantined + 1)
        if result.duplicate:
            return replace(self, fetched=self.fetched + 1, duplicates=self.duplicates + 1)
        return replace(self, fetched=self.fetched + 1, stored=self.stored + 1)


# One fetch ---------------------------------------------------------------------------


def fetch_mailbox(mailbox: Mailbox) -> FetchSummary:
    """Connect, store the mail that arrived since the last fetch, and log out.

    Records `last_checked_at`, and `last_error` (empty after a good fetch). Never
    raises for a mailbox that cannot be read: the error is in the summary.
    """
    try:
        with connect(mailbox) as client:
            summary = fetch_new(client, mailbox)
    except FETCH_ERRORS as exc:
        return _failed(mailbox, exc)
    record_check(mailbox, error="")
    return summary


def connect(mailbox: Mailbox) -> IMAPClient:
    """Open and log in to the mailbox's server, or raise MailboxError with the reason."""
    password = _password(mailbox)
    client = IMAPClient(
        mailbox.host, port=mailbox.port, ssl=mailbox.use_ssl, timeout=TIMEOUT_SECONDS
    )
    try:
        client.login(mailbox.username, password)
    except LoginError as exc:
        client.shutdown()
        reason = _text(exc.args[0]) if exc.args else ""
        raise MailboxError(
            f"the server refused the login of {mailbox.username} on {mailbox.host} "
            f"({reason}); check the password in ${mailbox.password_env}"
        ) from exc
    return client


def fetch_new(client: IMAPClient, mailbox: Mailbox) -> FetchSummary:
    """Store every message of the folder with a UID above `mailbox.last_uid`."""
    _select(client, mailbox)
    # A first fetch (or one after the server renumbered the folder) reads the whole
    # history at once: like an import, it must not trip the mail-loop rate limit.
    enforce_rate_limit = mailbox.last_uid > 0
    summary = FetchSummary(mailbox.name)
    for uid, raw in _new_messages(client, mailbox.last_uid):
        summary = summary.counted(_store(mailbox, uid, raw, enforce_rate_limit=enforce_rate_limit))
    return summary


def record_check(mailbox: Mailbox, *, error: str) -> None:
    mailbox.last_checked_at = timezone.now()
    mailbox.last_error = error
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_checked_at=mailbox.last_checked_at, last_error=error
    )


def _password(mailbox: Mailbox) -> str:
    if not mailbox.password_env:
        raise MailboxError("no password variable is configured (password_env)")
    password = env_secret(mailbox.password_env)
    if password is None:
        raise MailboxError(
            f"the environment variable {mailbox.password_env} (the password) is not set"
        )
    return password


def _select(client: IMAPClient, mailbox: Mailbox) -> None:
    # Read-only, so neither our FETCH nor the SELECT itself changes any flag.
    selected = client.select_folder(mailbox.folder, readonly=True)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    if uidvalidity == mailbox.uidvalidity:
        return
    # The server renumbered the folder (restored, recreated): every UID we knew is
    # void. Read it all again; ingest's receipts recognise what is already stored.
    mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)


def _new_messages(client: IMAPClient, last_uid: int) -> Iterator[tuple[int, bytes]]:
    # "N:*" always matches the newest message, even when its UID is below N.
    found = client.search(["UID", f"{last_uid + 1}:*"])
    uids = sorted(int(uid) for uid in found if int(uid) > last_uid)
    for start in range(0, len(uids), BATCH_SIZE):
        batch = uids[start : start + BATCH_SIZE]
        fetched = client.fetch(batch, ["BODY.PEEK[]"])
        for uid in batch:
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if isinstance(raw, bytes):  # a message expunged meanwhile has no body
                yield uid, raw


def _store(
    mailbox: Mailbox, uid: int, raw: bytes, *, enforce_rate_limit: bool
) -> IngestResult | None:
    # The message and the new last_uid commit together: killed before the commit,
    # both roll back and the UID is read again; after it, it is never read again.
    with transaction.atomic():
        result = _import(mailbox, raw, enforce_rate_limit=enforce_rate_limit)
        Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid)
    mailbox.last_uid = uid
    return result


def _import(mailbox: Mailbox, raw: bytes, *, enforce_rate_limit: bool) -> IngestResult | None:
    source = mailbox.source
    try:
        return import_message(
            raw, source=source, team=mailbox.team, enforce_rate_limit=enforce_rate_limit
        )
    except DatabaseError:
        raise  # transient (a lock, a lost connection): the next fetch reads it again
    except Exception as exc:
        # A message that breaks ingest must not block the mailbox behind it for ever.
        logger.exception("mailbox %s: ingest failed; quarantining the message", mailbox)
        quarantine(
            raw,
            channel=CHANNEL,
            source=source,
            reason=f"ingest failed: {type(exc).__name__}: {exc}"[:500],
            external_id=digest_id(raw),
        )
        return None


def _failed(mailbox: Mailbox, exc: BaseException) -> FetchSummary:
    error = describe(exc)
    logger.warning("mailbox %s: %s", mailbox, error)
    try:
        record_check(mailbox, error=error)
    except DatabaseError:
        logger.exception("mailbox %s: cannot record the error", mailbox)
    return FetchSummary(mailbox.name, error=error)


def describe(exc: BaseException) -> str:
    """One line an admin can act on."""
    if isinstance(exc, MailboxError | ConfigError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"the server did not answer within {TIMEOUT_SECONDS:.0f} s"
    if isinstance(exc, OSError):
        return f"cannot reach the server: {exc.strerror or exc}"
    if isinstance(exc, DatabaseError):
        return f"database: {exc}"
    return f"IMAP: {_text(exc.args[0]) if exc.args else type(exc).__name__}"


def _text(value: object) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    # imapclient hands some server answers over as the repr of their bytes.
    quoted = _BYTES_REPR.fullmatch(text)
    return quoted.group(1) if quoted else text


# Many mailboxes ----------------------------------------------------------------------


def active_mailboxes(names: Sequence[str] = ()) -> list[Mailbox]:
    mailboxes = Mailbox.objects.filter(is_active=True).select_related("team")
    if names:
        mailboxes = mailboxes.filter(name__in=names)
    return list(mailboxes)


def fetch_all(mailboxes: Sequence[Mailbox]) -> list[FetchSummary]:
    """Fetch every mailbox once, concurrently, one thread (and DB connection) each."""
    if not mailboxes:
        return []
    with ThreadPoolExecutor(min(len(mailboxes), MAX_THREADS), "imap") as pool:
        return list(pool.map(lambda box: _own_connection(fetch_mailbox, box), mailboxes))


def watch(
    stop: threading.Event,
    *,
    use_idle: bool,
    poll_seconds: float = POLL_SECONDS,
    names: Sequence[str] = (),
    report: Callable[[FetchSummary], object] = lambda summary: None,
) -> None:
    """Fetch every active mailbox in its own thread until `stop` is set.

    Each thread keeps one connection open and waits for mail with IDLE (when asked
    and the server offers it) or by polling every `poll_seconds`; a mailbox that
    fails is retried after `poll_seconds`, without stopping the others. Mailboxes
    added or switched on meanwhile are picked up within REFRESH_SECONDS.
    """
    watchers: dict[int, threading.Thread] = {}
    settings = _WatchSettings(stop, use_idle, poll_seconds, report)
    try:
        while not stop.is_set():
            for mailbox in _own_connection(active_mailboxes, names):
                running = watchers.get(mailbox.pk)
                if running is None or not running.is_alive():
                    watchers[mailbox.pk] = _start_watcher(mailbox.pk, settings)
            stop.wait(REFRESH_SECONDS)
    finally:
        stop.set()
        for thread in watchers.values():
            thread.join()


@dataclass(frozen=True)
class _WatchSettings:
    stop: threading.Event
    use_idle: bool
    poll_seconds: float
    report: Callable[[FetchSummary], object]


def _start_watcher(mailbox_id: int, settings: _WatchSettings) -> threading.Thread:
    thread = threading.Thread(
        target=_own_connection,
        args=(_watch_mailbox, mailbox_id, settings),
        name=f"imap-{mailbox_id}",
        daemon=True,
    )
    thread.start()
    return thread


def _watch_mailbox(mailbox_id: int, settings: _WatchSettings) -> None:
    """Serve one mailbox: connect, fetch, wait for news, fetch…; reconnect after errors."""
    while not settings.stop.is_set():
        mailbox = Mailbox.objects.select_related("team").filter(pk=mailbox_id).first()
        if mailbox is None or not mailbox.is_active:
            return  # deleted or switched off in the admin
        try:
            _session(mailbox, settings)
        except FETCH_ERRORS as exc:
            settings.report(_failed(mailbox, exc))
        except Exception:
            # A bug must not kill the thread for good: log it and try again later.
            logger.exception("mailbox %s: unexpected error", mailbox)
        # A database error leaves a broken connection behind; start afresh.
        connections.close_all()
        settings.stop.wait(settings.poll_seconds)


def _session(mailbox: Mailbox, settings: _WatchSettings) -> None:
    with connect(mailbox) as client:
        use_idle = settings.use_idle and client.has_capability("IDLE")
        # Switched off or deleted in the admin: stop at the next round. Other changes
        # (host, password) take effect when the session reconnects.
        while not settings.stop.is_set() and _is_active(mailbox):
            summary = fetch_new(client, mailbox)
            record_check(mailbox, error="")
            if summary.fetched:
                settings.report(summary)
            if use_idle:
                idle(client, settings.stop)
            elif not settings.stop.wait(settings.poll_seconds):
                client.noop()


def _is_active(mailbox: Mailbox) -> bool:
    return Mailbox.objects.filter(pk=mailbox.pk, is_active=True).exists()


def idle(client: IMAPClient, stop: threading.Event) -> None:
    """Wait until the server reports a change, IDLE_RENEW_SECONDS pass, or `stop` is set."""
    client.idle()
    try:
        deadline = time.monotonic() + IDLE_RENEW_SECONDS
        while not stop.is_set() and time.monotonic() < deadline:
            # Any untagged response (EXISTS, EXPUNGE, a keep-alive) means look again:
            # the search is cheap, and a missed EXISTS would delay mail until renewal.
            if client.idle_check(timeout=STOP_CHECK_SECONDS):
                return
    finally:
        client.idle_done()


def _own_connection(function: Callable[..., _T], *args: Any) -> _T:
    """Run `function` and close this thread's database connections afterwards."""
    try:
        return function(*args)
    finally:
        connections.close_all()
