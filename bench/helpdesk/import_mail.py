"""Time django-helpdesk's own mail import over a copy of a Maildir; print one JSON line.

Runs inside bench/out/helpdesk-venv, started by bench/helpdesk_baseline.py, which passes
the work folder in HELPDESK_BENCH_WORKDIR. Usage: import_mail.py MAILDIR
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import django

QUEUE_ADDRESS = "support@kiwidesk.test"
PROGRESS_EVERY_SECONDS = 10.0


def main() -> int:
    source = Path(sys.argv[1])
    workdir = Path(os.environ["HELPDESK_BENCH_WORKDIR"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    with contextlib.redirect_stdout(sys.stderr):
        django.setup()
        mailbox = _fresh_workdir(workdir)
        _migrate()
        copied = _copy_messages(source, mailbox)
        _log(f"copied {copied} messages into {mailbox}")
        if not copied:
            _log(f"no mail files in {source}")
        _create_queue(mailbox)
        seconds = _time_import(mailbox, copied)
        left = _count_files(mailbox)
        if left:
            _log(f"{left} messages were left in {mailbox} (not imported)")
        result = _result(copied - left, seconds)
    print(json.dumps(result), flush=True)
    # A partial import still reports its figures, but its rate is not the baseline's.
    return 0 if copied and not left else 1


def _fresh_workdir(workdir: Path) -> Path:
    """Remove what an earlier run left (only the names this script writes)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("helpdesk.sqlite3", "helpdesk.sqlite3-wal", "helpdesk.sqlite3-shm"):
        (workdir / name).unlink(missing_ok=True)
    for name in ("mailbox", "media"):
        shutil.rmtree(workdir / name, ignore_errors=True)
    mailbox = workdir / "mailbox"
    mailbox.mkdir()
    return mailbox


def _migrate() -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    _log(f"migrated in {time.perf_counter() - started:.1f} s")


def _copy_messages(source: Path, mailbox: Path) -> int:
    """Copy every message file (a Maildir's new/ and cur/, or a plain folder) into mailbox.

    helpdesk deletes each file it imports, so it always works on this copy.
    """
    folders = [source / "new", source / "cur"]
    if not any(folder.is_dir() for folder in folders):
        folders = [source]
    count = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                shutil.copyfile(path, mailbox / path.name)
                count += 1
    return count


def _create_queue(mailbox: Path) -> None:
    """One queue reading a local mail folder, as django-helpdesk's documentation sets it up."""
    from helpdesk.models import Queue

    Queue.objects.create(
        title="Support",
        slug="support",
        email_address=QUEUE_ADDRESS,
        allow_email_submission=True,
        email_box_type="local",
        email_box_local_dir=str(mailbox),
        # Imported at once, not after the default five-minute polling interval.
        email_box_interval=0,
        # Errors only, so that a failure shows on stderr without logging every message.
        logging_type="error",
    )


def _time_import(mailbox: Path, total: int) -> float:
    from helpdesk.email import process_email

    done = threading.Event()
    reporter = threading.Thread(target=_report_progress, args=(mailbox, total, done), daemon=True)
    reporter.start()
    with _delivery_order():
        started = time.perf_counter()
        process_email(quiet=False)
        seconds = time.perf_counter() - started
    done.set()
    reporter.join()
    _log(f"imported in {seconds:.1f} s")
    return seconds


@contextlib.contextmanager
def _delivery_order() -> Iterator[None]:
    """Make helpdesk read the folder in file-name order, that is in delivery order.

    helpdesk walks os.listdir(), whose order is the file system's; a reply read before
    the mail it answers would open a new ticket instead of adding a follow-up.
    """
    unsorted: Callable[..., list[str]] = os.listdir

    def listdir(path: str | os.PathLike[str] = ".") -> list[str]:
        return sorted(unsorted(path))

    os.listdir = listdir
    try:
        yield
    finally:
        os.listdir = unsorted


def _report_progress(mailbox: Path, total: int, done: threading.Event) -> None:
    started = time.perf_counter()
    while not done.wait(PROGRESS_EVERY_SECONDS):
        imported = total - _count_files(mailbox)
        elapsed = time.perf_counter() - started
        _log(f"{imported}/{total} imported after {elapsed:.0f} s")


def _count_files(folder: Path) -> int:
    return sum(1 for path in folder.iterdir() if path.is_file())


def _result(messages: int, seconds: float) -> dict[str, object]:
    from helpdesk.models import FollowUp, Ticket

    return {
        "importer": f"django-helpdesk {version('django-helpdesk')}",
        "messages": messages,
        "tickets": Ticket.objects.count(),
        "followups": FollowUp.objects.count(),
        "seconds": round(seconds, 3),
        "per_second": round(messages / seconds, 1) if seconds else 0.0,
    }


def _log(text: str) -> None:
    print(f"helpdesk baseline: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
