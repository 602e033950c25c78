"""Build small Maildirs, mbox files and .eml folders on disk for the import tests."""

from __future__ import annotations

import mailbox
from pathlib import Path

from tests.channels.email.mail import raw

# Three distinct messages and one without a sender.
MESSAGES = ("reply_with_token.eml", "html_only.eml", "base64_body.eml", "no_sender.eml")


def make_maildir(root: Path) -> Path:
    for folder in ("cur", "new", "tmp"):
        (root / folder).mkdir(parents=True)
    for number, name in enumerate(MESSAGES):
        folder = "cur" if number % 2 else "new"
        (root / folder / f"{number}.kiwidesk:2,S").write_bytes(raw(name))
    (root / "tmp" / "still-arriving").write_bytes(raw("auto_reply.eml"))
    return root


def make_mbox(path: Path) -> Path:
    box = mailbox.mbox(path)
    for name in MESSAGES:
        box.add(raw(name))
    box.flush()
    box.close()
    return path


def make_eml_folder(root: Path) -> Path:
    (root / "2026" / "march").mkdir(parents=True)
    for number, name in enumerate(MESSAGES):
        (root / "2026" / "march" / f"{number}.eml").write_bytes(raw(name))
    (root / "notes.txt").write_text("not mail")
    return root
