"""The real `kiwidesk fetch-mail` in its own process: IDLE, many mailboxes, a SIGKILL."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.channels.email.imap import mail, processes
from tests.channels.email.imap.conftest import PASSWORD_ENV
from tests.channels.email.imap.dovecot import Dovecot
from tests.channels.email.imap.processes import MailboxRow

VISIBLE_WITHIN_SECONDS = 10.0
CRASH_MESSAGES = 200
KILL_AFTER_STORED = 20


def _add(data_dir: Path, server: Dovecot, *rows: MailboxRow) -> dict[str, str]:
    processes.add_mailboxes(
        data_dir, list(rows), host=server.host, port=server.port, env=PASSWORD_ENV
    )
    return {PASSWORD_ENV: server.password}


def _was_checked(data_dir: Path) -> bool:
    checked = processes.query(data_dir, "SELECT last_checked_at FROM channel_email_mailbox")
    return checked != [(None,)]


def _wait_until(condition: Callable[[], bool], *, seconds: float) -> float:
    """Poll `condition` until true; return the seconds it took, or fail after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"not true within {seconds} s")


def test_mail_arriving_while_the_fetcher_idles_is_stored_within_ten_seconds(
    data_dir: Path, dovecot_server: Dovecot, imap_user: str
) -> None:
    env = _add(data_dir, dovecot_server, MailboxRow("Support", imap_user, "support"))
    fetcher = processes.start_kiwidesk(data_dir, "fetch-mail", "--idle", **env)
    _wait_until(lambda: _was_checked(data_dir), seconds=10)

    mail.append(dovecot_server, imap_user, [mail.mail(1)])
    took = _wait_until(lambda: processes.stored_count(data_dir) == 1, seconds=10)

    fetcher.send_signal(signal.SIGTERM)
    output, errors = fetcher.communicate(timeout=10)
    assert took < VISIBLE_WITHIN_SECONDS
    assert fetcher.returncode == 0, errors
    assert output.splitlines()[-2:] == [
        "Support: 1 fetched, 1 stored, 0 duplicates, 0 quarantined",
        "Stopped fetching mail.",
    ]


def test_a_polling_fetcher_stores_new_mail_and_stops_on_sigterm(
    data_dir: Path, dovecot_server: Dovecot, imap_user: str
) -> None:
    env = _add(data_dir, dovecot_server, MailboxRow("Support", imap_user, "support"))
    fetcher = processes.start_kiwidesk(data_dir, "fetch-mail", "--poll-seconds", "1", **env)
    _wait_until(lambda: _was_checked(data_dir), seconds=10)

    mail.append(dovecot_server, imap_user, [mail.mail(1)])
    _wait_until(lambda: processes.stored_count(data_dir) == 1, seconds=5)
    fetcher.send_signal(signal.SIGTERM)

    output, errors = fetcher.communicate(timeout=10)
    assert fetcher.returncode == 0, errors
    assert output.splitlines() == [
        "Fetching 1 mailboxes (polling every 1 s); stop with Ctrl-C.",
        "Support: 1 fetched, 1 stored, 0 duplicates, 0 quarantined",
        "Stopped fetching mail.",
    ]


def test_each_mailbox_is_fetched_into_its_own_team(
    data_dir: Path, dovecot_server: Dovecot, imap_user: str
) -> None:
    other_user = f"{imap_user}-concierge"
    env = _add(
        data_dir,
        dovecot_server,
        MailboxRow("Support", imap_user, "support"),
        MailboxRow("Concierge", other_user, "concierge"),
    )
    mail.append(dovecot_server, imap_user, [mail.mail(1), mail.mail(2)])
    mail.append(dovecot_server, other_user, [mail.mail(3)])

    result = processes.kiwidesk(data_dir, "fetch-mail", "--once", **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Concierge: 1 fetched, 1 stored, 0 duplicates, 0 quarantined",
        "Support: 2 fetched, 2 stored, 0 duplicates, 0 quarantined",
    ]
    assert processes.query(
        data_dir,
        "SELECT c.subject, t.slug FROM cases_case c JOIN accounts_team t ON t.id = c.team_id "
        "ORDER BY c.subject",
    ) == [("Question 1", "support"), ("Question 2", "support"), ("Question 3", "concierge")]


def test_a_failing_mailbox_does_not_stop_the_others(
    data_dir: Path, dovecot_server: Dovecot, imap_user: str
) -> None:
    env = _add(
        data_dir,
        dovecot_server,
        MailboxRow("Support", imap_user, "support"),
        MailboxRow("Broken", "", "broken"),
    )
    mail.append(dovecot_server, imap_user, [mail.mail(1)])

    result = processes.kiwidesk(data_dir, "fetch-mail", "--once", **env)

    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == (
        "Support: 1 fetched, 1 stored, 0 duplicates, 0 quarantined"
    )
    assert processes.query(
        data_dir, "SELECT name, last_error != '' FROM channel_email_mailbox ORDER BY name"
    ) == [("Broken", 1), ("Support", 0)]


def test_a_fetcher_killed_mid_import_neither_loses_nor_duplicates_mail(
    data_dir: Path, dovecot_server: Dovecot, imap_user: str
) -> None:
    env = _add(data_dir, dovecot_server, MailboxRow("Support", imap_user, "support"))
    mail.append(dovecot_server, imap_user, [mail.mail(n) for n in range(CRASH_MESSAGES)])
    fetcher = processes.start_kiwidesk(data_dir, "fetch-mail", "--once", **env)
    _wait_until(lambda: processes.stored_count(data_dir) >= KILL_AFTER_STORED, seconds=20)

    fetcher.send_signal(signal.SIGKILL)
    fetcher.communicate(timeout=10)
    stored_when_killed = processes.stored_count(data_dir)
    result = processes.kiwidesk(data_dir, "fetch-mail", "--once", **env)

    assert fetcher.returncode == -signal.SIGKILL
    assert stored_when_killed < CRASH_MESSAGES
    assert result.returncode == 0, result.stderr
    copies = processes.copies_by_message_id(data_dir)
    assert len(copies) == CRASH_MESSAGES
    assert set(copies.values()) == {1}
