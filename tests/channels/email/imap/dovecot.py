"""A real Dovecot IMAP server for the tests, on 127.0.0.1 with a throwaway maildir."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "imap-test-password"  # the static passdb of a throwaway server
START_TIMEOUT_SECONDS = 10.0

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {first_valid_uid}
mail_location = maildir:{root}/mail/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# Auth runs without its penalty socket, so a test's wrong password does not slow
# every later login from 127.0.0.1 (Dovecot then skips the penalty).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
"""


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    password: str
    root: Path
    config: Path


def binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot",) if Path(p).exists()), None
    )


def start(dovecot: str) -> Dovecot:
    """Start Dovecot with a config of its own; as root, its processes run as `dovecot`."""
    # Not under pytest's tmp_path: that is private to root, and Dovecot's own users
    # must reach the maildir.
    root = Path(tempfile.mkdtemp(prefix="kiwidesk-dovecot-"))
    root.chmod(0o755)
    users = _users()
    (root / "mail").mkdir()
    shutil.chown(root / "mail", users["mail_user"], users["mail_group"])
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_CONFIG.format(root=root, port=port, password=PASSWORD, **users))
    # Dovecot forks into the background; its daemon would hold a captured pipe open.
    subprocess.run(  # noqa: S603
        [dovecot, "-c", str(config)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(port, root)
    return Dovecot(host="127.0.0.1", port=port, password=PASSWORD, root=root, config=config)


def stop(dovecot: str, server: Dovecot) -> None:
    subprocess.run(  # noqa: S603
        [dovecot, "-c", str(server.config), "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.rmtree(server.root, ignore_errors=True)


def _users() -> dict[str, str]:
    if os.geteuid() == 0:
        # Dovecot's login processes refuse to run as root.
        return {"internal_user": "dovecot", "login_user": "dovenull", "mail_user": "dovecot",
                "mail_group": "dovecot", "first_valid_uid": "100"}  # fmt: skip
    me = pwd.getpwuid(os.geteuid())
    return {"internal_user": me.pw_name, "login_user": me.pw_name, "mail_user": me.pw_name,
            "mail_group": str(me.pw_gid), "first_valid_uid": "1"}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, root: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    log = root / "dovecot.log"
    raise RuntimeError(
        f"Dovecot did not listen on {port}: {log.read_text() if log.exists() else ''}"
    )
