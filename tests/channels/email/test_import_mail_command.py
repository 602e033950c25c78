from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiwidesk import cli
from kiwidesk.cases.models import Message
from tests.channels.email.mailbox_files import make_maildir


def _summary(output: str) -> str:
    return re.sub(r"in [\d.]+ s \(\d+ messages/s\)", "in T s (R messages/s)", output.strip())


def test_import_mail_prints_a_summary(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maildir = make_maildir(tmp_path / "Maildir")

    status = cli.main(["import-mail", str(maildir), "--quiet"])

    assert status == 0
    assert _summary(capsys.readouterr().out) == (
        "Read 4 messages: 3 stored (3 new cases), 0 duplicates, 1 quarantined "
        "in T s (R messages/s)."
    )


def test_import_mail_twice_reports_only_duplicates(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    cli.main(["import-mail", str(maildir), "--quiet", "--source", "support-inbox"])
    capsys.readouterr()

    cli.main(["import-mail", str(maildir), "--quiet", "--source", "support-inbox"])

    assert _summary(capsys.readouterr().out) == (
        "Read 4 messages: 0 stored (0 new cases), 3 duplicates, 1 quarantined "
        "in T s (R messages/s)."
    )
    assert Message.objects.count() == 3


def test_import_mail_refuses_a_path_that_is_no_mailbox(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["import-mail", str(tmp_path / "nowhere"), "--quiet"])

    assert status == 1
    assert capsys.readouterr().err == (
        f"kiwidesk: error: {tmp_path / 'nowhere'} is not a Maildir, an mbox file "
        "or a folder of .eml files\n"
    )


def test_import_mail_refuses_an_unknown_team(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maildir = make_maildir(tmp_path / "Maildir")

    status = cli.main(["import-mail", str(maildir), "--quiet", "--team", "nobody"])

    assert status == 1
    assert capsys.readouterr().err == "kiwidesk: error: no team with the slug nobody\n"
    assert Message.objects.count() == 0
