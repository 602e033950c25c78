"""Run the real `kiwidesk` command in other processes, on a file-backed SQLite database.

pytest-django's database lives in memory, invisible to another process; these tests
migrate a database file of their own and read it back with sqlite3.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DATABASE = "kiwidesk.sqlite3"


@dataclass(frozen=True)
class MailboxRow:
    name: str
    username: str
    team_slug: str


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(KIWIDESK_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="kiwidesk.settings")
    env.update(extra)
    return env


def kiwidesk(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "kiwidesk.cli", *args],
        env=environment(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_kiwidesk(data_dir: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "kiwidesk.cli", *args],
        env=environment(data_dir, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def migrated(data_dir: Path) -> Path:
    result = kiwidesk(data_dir, "migrate")
    assert result.returncode == 0, result.stderr
    return data_dir


def copy_data_dir(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def add_mailboxes(
    data_dir: Path, rows: list[MailboxRow], *, host: str, port: int, env: str
) -> None:
    """Create teams and mailboxes through the models, in a process of their own."""
    script = (
        "import django, json, sys; django.setup()\n"
        "from kiwidesk.accounts.models import Team\n"
        "from kiwidesk.channels.email.models import Mailbox\n"
        "for name, username, slug in json.loads(sys.argv[1]):\n"
        "    team = Team.objects.create(name=slug, slug=slug)\n"
        "    Mailbox.objects.create(name=name, host=sys.argv[2], port=int(sys.argv[3]),\n"
        "        use_ssl=False, username=username, password_env=sys.argv[4], team=team)\n"
    )

    specs = json.dumps([[row.name, row.username, row.team_slug] for row in rows])
    result = subprocess.run(  # noqa: S603  (our own interpreter)
        [sys.executable, "-c", script, specs, host, str(port), env],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / DATABASE, timeout=10) as connection:
        return connection.execute(sql).fetchall()


def stored_count(data_dir: Path) -> int:
    rows = query(data_dir, "SELECT count(*) FROM cases_message")
    return int(str(rows[0][0]))


def copies_by_message_id(data_dir: Path) -> dict[str, int]:
    rows = query(data_dir, "SELECT external_id, count(*) FROM cases_message GROUP BY external_id")
    return {str(external_id): int(str(count)) for external_id, count in rows}
