"""A real Dovecot for the whole session, and one empty IMAP account per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiwidesk.accounts.models import Team
from kiwidesk.channels.email.models import Mailbox
from tests.channels.email.imap import dovecot, processes
from tests.conftest import require_service

PASSWORD_ENV = "KIWIDESK_TEST_IMAP_PASSWORD"


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[dovecot.Dovecot]:
    binary = dovecot.binary()
    require_service(binary is not None, "Dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    server = dovecot.start(binary)
    yield server
    dovecot.stop(binary, server)


@pytest.fixture
def imap_user(dovecot_server: dovecot.Dovecot) -> str:
    """A fresh account: Dovecot creates its empty maildir on first login."""
    return f"support-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def mailbox(
    team: Team,
    dovecot_server: dovecot.Dovecot,
    imap_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Mailbox:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)
    return Mailbox.objects.create(
        name="Support",
        host=dovecot_server.host,
        port=dovecot_server.port,
        use_ssl=False,
        username=imap_user,
        password_env=PASSWORD_ENV,
        team=team,
    )


@pytest.fixture(scope="session")
def migrated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file-backed database other processes can open, migrated once per session."""
    return processes.migrated(tmp_path_factory.mktemp("kiwidesk-template"))


@pytest.fixture
def data_dir(migrated_data_dir: Path, tmp_path: Path) -> Path:
    return processes.copy_data_dir(migrated_data_dir, tmp_path / "data")
