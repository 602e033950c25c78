from __future__ import annotations

from pathlib import Path

import pytest

from kiwidesk.channels.email.mailboxes import MailboxNotFoundError, open_mailbox
from tests.channels.email.mail import raw
from tests.channels.email.mailbox_files import MESSAGES, make_eml_folder, make_maildir, make_mbox


def test_maildir_yields_new_and_cur_but_not_tmp(tmp_path: Path) -> None:
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))

    mails = list(box)

    assert (box.kind, box.count) == ("maildir", 4)
    assert sorted(mail.raw for mail in mails) == sorted(raw(name) for name in MESSAGES)


def test_mbox_yields_each_message_with_its_bytes(tmp_path: Path) -> None:
    box = open_mailbox(make_mbox(tmp_path / "support.mbox"))

    mails = list(box)

    assert (box.kind, box.count) == ("mbox", 4)
    assert [mail.raw.replace(b"\r\n", b"\n") for mail in mails] == [raw(name) for name in MESSAGES]


def test_folder_is_searched_recursively_for_eml_files_only(tmp_path: Path) -> None:
    box = open_mailbox(make_eml_folder(tmp_path / "export"))

    mails = list(box)

    assert (box.kind, box.count) == ("eml", 4)
    assert [mail.raw for mail in mails] == [raw(name) for name in MESSAGES]


def test_single_eml_file_is_one_message(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(raw("html_only.eml"))

    box = open_mailbox(path)

    assert [mail.raw for mail in box] == [raw("html_only.eml")]


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MailboxNotFoundError) as error:
        open_mailbox(tmp_path / "nowhere")

    assert (
        str(error.value)
        == f"{tmp_path / 'nowhere'} is not a Maildir, an mbox file or a folder of .eml files"
    )
