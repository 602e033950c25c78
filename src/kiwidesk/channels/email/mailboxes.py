"""Read raw mail from local mailboxes: a Maildir, an mbox file, or a folder of .eml files."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class MailboxNotFoundError(OSError):
    """The path is not a Maildir, an mbox file or a folder of .eml files."""


@dataclass(frozen=True)
class StoredMail:
    """One message as it lies in a mailbox: where it is, and its bytes exactly."""

    location: str
    raw: bytes


class LocalMailbox:
    """A mailbox on disk; `count` is known before reading, for a progress bar."""

    def __init__(self, path: Path, kind: str, count: int) -> None:
        self.path = path
        self.kind = kind
        self.count = count

    def __iter__(self) -> Iterator[StoredMail]:
        if self.kind == "mbox":
            yield from _mbox_messages(self.path)
        else:
            for file in _files(self.path, self.kind):
                yield StoredMail(str(file), file.read_bytes())


def open_mailbox(path: Path) -> LocalMailbox:
    """Recognise what `path` holds, or raise MailboxNotFoundError.

    A folder with cur/ or new/ is a Maildir (tmp/ holds mail still being delivered, so
    it is skipped); any other folder is searched recursively for .eml files; a file
    ending in .eml is one message and any other file is read as mbox.
    """
    if path.is_dir():
        kind = "maildir" if (path / "cur").is_dir() or (path / "new").is_dir() else "eml"
        return LocalMailbox(path, kind, sum(1 for _ in _files(path, kind)))
    if path.is_file() and path.suffix.lower() == ".eml":
        return LocalMailbox(path, "eml", 1)
    if path.is_file():
        return LocalMailbox(path, "mbox", len(mailbox.mbox(path, create=False)))
    raise MailboxNotFoundError(f"{path} is not a Maildir, an mbox file or a folder of .eml files")


def _files(path: Path, kind: str) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif kind == "maildir":
        for folder in ("new", "cur"):
            yield from sorted(_visible_files((path / folder).glob("*")))
    else:
        yield from sorted(_visible_files(path.rglob("*.eml")))


def _visible_files(paths: Iterator[Path]) -> Iterator[Path]:
    return (p for p in paths if p.is_file() and not p.name.startswith("."))


def _mbox_messages(path: Path) -> Iterator[StoredMail]:
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield StoredMail(f"{path}#{key}", box.get_bytes(key))
    finally:
        box.close()
