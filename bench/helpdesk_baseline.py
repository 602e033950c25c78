"""Time django-helpdesk's own mail importer on a Maildir: the baseline for bench_ingest.py.

On first use this creates a separate virtualenv, bench/out/helpdesk-venv, with the
versions pinned in bench/helpdesk/requirements.txt (and recreates it when that file
changes). It then runs bench/helpdesk/import_mail.py inside it, which migrates a fresh
SQLite database in the work folder, creates one queue importing from a local mail folder,
copies the Maildir's messages there and times helpdesk's `process_email()` over them.

stdout gets exactly one JSON line:
{"importer": "django-helpdesk 2.6.1", "messages": N, "tickets": T, "followups": F,
 "seconds": S, "per_second": R}
Everything else (pip, migrations, progress) goes to stderr. Standard library only, so
that it runs with any Python 3.10 or newer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR / "helpdesk"
REQUIREMENTS = PROJECT_DIR / "requirements.txt"
VENV_DIR = BENCH_DIR / "out" / "helpdesk-venv"
STAMP = VENV_DIR / "requirements.sha256"
DEFAULT_WORKDIR = BENCH_DIR / "out" / "helpdesk-work"
# Never let an inherited setting point helpdesk at a real mail server or webhook.
_SCRUBBED_PREFIXES = ("HELPDESK_", "QUEUE_EMAIL_", "EMAIL_", "DJANGO_")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("maildir", type=Path, help="a Maildir (new/, cur/) or a folder of mails")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"database, mail copy and attachments (default {DEFAULT_WORKDIR})",
    )
    args = parser.parse_args()
    if not args.maildir.is_dir():
        parser.error(f"{args.maildir} is not a folder")

    python = _ensure_venv()
    done = subprocess.run(  # noqa: S603
        [str(python), str(PROJECT_DIR / "import_mail.py"), str(args.maildir.resolve())],
        env=_environment(args.workdir.resolve()),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = done.stdout.splitlines()
    if len(lines) != 1:
        _log(f"the import failed (exit {done.returncode}); its output: {done.stdout!r}")
        return done.returncode or 1
    print(json.dumps(json.loads(lines[0])), flush=True)
    if done.returncode != 0:
        _log("the import did not take every message (see above): not a baseline")
    return done.returncode


def _ensure_venv() -> Path:
    """Create or refresh the baseline's virtualenv; return its Python."""
    python = VENV_DIR / "bin" / "python"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    _log(f"creating {VENV_DIR} with {REQUIREMENTS.relative_to(BENCH_DIR.parent)}")
    STAMP.unlink(missing_ok=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(VENV_DIR)
    install = [str(python), "-m", "pip", "install", "--no-input", "--quiet"]
    _run_to_stderr([*install, "--requirement", str(REQUIREMENTS)])
    STAMP.write_text(wanted + "\n")
    return python


def _run_to_stderr(command: list[str]) -> None:
    subprocess.run(command, stdout=sys.stderr, check=True)  # noqa: S603


def _environment(workdir: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_SCRUBBED_PREFIXES) and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "settings",
        "HELPDESK_BENCH_WORKDIR": str(workdir),
        # helpdesk reads each mail file in text mode with the locale's encoding.
        "PYTHONUTF8": "1",
    }


def _log(text: str) -> None:
    print(f"helpdesk baseline: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
