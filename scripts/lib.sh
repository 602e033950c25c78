# Shared set-up for scripts/demo and scripts/test. Sourced, not run.

KIWIDESK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$KIWIDESK_ROOT/.venv"

say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# pip, without the warnings some machines' local index mirrors print on every call.
pip_quietly() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
}

# Create the virtualenv and install Kiwidesk into it (with EXTRAS, e.g. "test").
# Reinstalls only when pyproject.toml changed, so the second run starts at once.
ensure_venv() {
  local extras="${1:-}" target="$KIWIDESK_ROOT" stamp
  [ -n "$extras" ] && target="$KIWIDESK_ROOT[$extras]"
  command -v python3 >/dev/null || die "Python 3.11 or newer is needed (python3 not found)"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed"
  [ -x "$VENV/bin/python" ] || { say "Creating a virtualenv in .venv"; python3 -m venv "$VENV"; }
  stamp="$VENV/.kiwidesk-$(sha256sum "$KIWIDESK_ROOT/pyproject.toml" | cut -c1-16)-${extras:-base}"
  if [ ! -f "$stamp" ]; then
    say "Installing Kiwidesk and its pinned dependencies"
    pip_quietly --upgrade pip
    pip_quietly -e "$target"
    "$VENV/bin/python" -c "import kiwidesk, django" || die "installation failed"
    touch "$stamp"
  fi
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
}

# Debian's Chromium for the browser tests (never Playwright's own download: no network here).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing Chromium from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing and cannot be installed here (needs root and apt-get)." >&2
  fi
}

# Debian's Dovecot for the IMAP tests, which start their own instance on 127.0.0.1.
ensure_dovecot() {
  command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing Dovecot (IMAP) from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
  else
    echo "Dovecot is missing and cannot be installed here (needs root and apt-get)." >&2
  fi
}
