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

# Fuzz the HTTP API with schemathesis against a real server: a fresh SQLite database in a
# temporary folder, a few seeded cases, an administrator with a read+write token, waitress on
# 127.0.0.1. Checks: no 5xx, and every response matches the OpenAPI schema.
# SCHEMATHESIS_MAX_EXAMPLES (default 8) and SCHEMATHESIS_MAX_SECONDS (120) bound the run.
# A subshell: its environment (data folder, task backend) stays its own.
run_schemathesis() (
  local data_dir port server_pid token status=0
  data_dir="$(mktemp -d)"
  port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export KIWIDESK_DATA_DIR="$data_dir" KIWIDESK_TASK_BACKEND="django_tasks.backends.dummy.DummyBackend"
  kiwidesk migrate >/dev/null || die "schemathesis: could not create the database"
  # A broken seeder is the seed tests' failure to report; the fuzzing still runs.
  kiwidesk seed --cases 12 --messages 40 --quiet >/dev/null \
    || echo "schemathesis: seeding failed, fuzzing an empty database" >&2
  kiwidesk createagent fuzz@kiwidesk.test --name "Schemathesis" --admin >/dev/null \
    || die "schemathesis: could not create the agent"
  kiwidesk token fuzz@kiwidesk.test --scope read --scope write --days 1 2>/dev/null >"$data_dir/token" \
    || die "schemathesis: could not issue a token"
  token="$(cat "$data_dir/token")"
  kiwidesk serve --host 127.0.0.1 --port "$port" --threads 4 --no-worker >"$data_dir/server.log" 2>&1 &
  server_pid=$!
  # From the data folder, so its replay files (.schemathesis/) stay with the server log.
  # One worker: two threads shrinking at once tripped a CPython 3.11 AST error inside
  # Hypothesis ("AST constructor recursion depth mismatch"), a false failure.
  (cd "$data_dir" && schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-8}" \
    --max-time "${SCHEMATHESIS_MAX_SECONDS:-120}" \
    --workers 1 --seed 1 --wait-for-schema 30 --request-timeout 20 \
    --generation-codec utf-8 --no-color) || status=$?
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "server log: $data_dir/server.log" >&2
  else
    rm -rf "$data_dir"
  fi
  return "$status"
)
