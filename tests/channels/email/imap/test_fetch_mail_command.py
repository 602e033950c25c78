from __future__ import annotations

import pytest

from kiwidesk import cli


def test_fetch_mail_once_without_mailboxes_says_how_to_add_one(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["fetch-mail", "--once"])

    assert status == 0
    assert capsys.readouterr().out == (
        "No active mailbox to fetch (add one in the admin: Email channel > Mailboxes).\n"
    )


def test_fetch_mail_refuses_once_and_idle_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fetch-mail", "--once", "--idle"])

    assert exit_info.value.code == 2
    assert "argument --idle: not allowed with argument --once" in capsys.readouterr().err
