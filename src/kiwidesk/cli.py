"""The `kiwidesk` command: set up, seed, manage agents and tokens, serve the demo.

Each subcommand parses its arguments, calls a service, and prints the result. Errors
are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

DEFAULT_SEED = 1
DEMO_CASES = 1_000
MESSAGES_PER_CASE = 7
MAX_SOURCE_LENGTH = 255


class CliError(Exception):
    """A problem the user can fix; shown as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.handler is cmd_demo:
        # The demo has no mail server: replies are written to data/sent-mail/ instead.
        os.environ.setdefault(
            "KIWIDESK_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
        )
        # A page at /channels/chat/demo/ to try the chat widget on.
        os.environ.setdefault("KIWIDESK_CHAT_DEMO", "true")
    try:
        _setup_django()
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a known failure is one line; a bug keeps its traceback
        message = _known_error(exc)
        if message is None:
            raise
        print(f"kiwidesk: error: {message}", file=sys.stderr)
        return 1


def _known_error(exc: Exception) -> str | None:
    from django.core.exceptions import ValidationError
    from django.core.management import CommandError
    from django.db import DatabaseError

    from kiwidesk.envconfig import ConfigError
    from kiwidesk.seed.errors import SeedError
    from kiwidesk.vault.cipher import VaultError

    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, DatabaseError):
        hint = " (run `kiwidesk migrate` first)" if "no such table" in str(exc) else ""
        return f"database: {exc}{hint}"
    if isinstance(exc, CliError | SeedError | ConfigError | CommandError | OSError | VaultError):
        return str(exc)
    return None


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiwidesk.settings")
    import django

    django.setup()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiwidesk", description="Kiwidesk: support operations for high-trust teams."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", help="create or update the database tables")
    migrate.set_defaults(handler=cmd_migrate)

    seed = commands.add_parser("seed", help="fill an empty database with demo data")
    seed.add_argument("--cases", type=_positive, default=DEMO_CASES, help="default 1000")
    seed.add_argument(
        "--messages", type=_positive, help=f"messages in all (default {MESSAGES_PER_CASE} per case)"
    )
    seed.add_argument("--seed", type=int, default=DEFAULT_SEED, help="same seed, same data")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(handler=cmd_seed)

    agent = commands.add_parser("createagent", help="create an agent who can log in")
    agent.add_argument("email")
    agent.add_argument("--name", default="")
    agent.add_argument("--admin", action="store_true", help="may use the admin site")
    agent.add_argument("--password", help="generated and printed when left out")
    agent.add_argument(
        "--clearance",
        choices=("normal", "confidential", "clinical"),
        default="normal",
        help="the most sensitive cases the agent may open (admins: clinical)",
    )
    agent.set_defaults(handler=cmd_createagent)

    token = commands.add_parser("token", help="issue an API token and print it once")
    token.add_argument("email")
    token.add_argument("--name", default="API token")
    token.add_argument(
        "--scope",
        action="append",
        choices=("read", "write", "clinical"),
        help="repeat for several (default: read and write); clinical needs a cleared "
        "agent with two-factor authentication",
    )
    token.add_argument(
        "--days", type=int, default=90, help="days until the token expires (default 90)"
    )
    token.set_defaults(handler=cmd_token)

    serve = commands.add_parser("serve", help="serve the web UI and API with waitress")
    _serve_arguments(serve, port=8000)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run background tasks (no web server)")
    worker.set_defaults(handler=cmd_worker)

    demo = commands.add_parser("demo", help="migrate, seed once, and serve with a demo login")
    _serve_arguments(demo, port=8000)
    demo.set_defaults(handler=cmd_demo)

    import_mail = commands.add_parser(
        "import-mail", help="import a Maildir, an mbox file or a folder of .eml files"
    )
    import_mail.add_argument("path", help="a Maildir, an mbox file, or a folder of .eml files")
    import_mail.add_argument(
        "--source", help="the mailbox name messages are deduplicated by (default: the path)"
    )
    import_mail.add_argument("--team", help="slug of the team new cases go to")
    import_mail.add_argument("--quiet", action="store_true", help="no progress bar")
    import_mail.set_defaults(handler=cmd_import_mail)

    fetch_mail = commands.add_parser(
        "fetch-mail", help="fetch mail from the IMAP mailboxes configured in the admin"
    )
    mode = fetch_mail.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="fetch each mailbox once and exit")
    mode.add_argument(
        "--idle", action="store_true", help="wait for new mail with IMAP IDLE instead of polling"
    )
    fetch_mail.add_argument(
        "--poll-seconds", type=_positive, default=30, help="polling and retry interval (30)"
    )
    fetch_mail.add_argument(
        "--mailbox", action="append", default=[], help="only this mailbox (repeatable)"
    )
    fetch_mail.set_defaults(handler=cmd_fetch_mail)

    sla = commands.add_parser("sla", help="SLA clocks")
    sla_commands = sla.add_subparsers(dest="sla_command", required=True, metavar="COMMAND")
    recompute = sla_commands.add_parser(
        "recompute", help="rebuild every case's clocks from its events"
    )
    recompute.add_argument("--batch", type=_positive, default=5_000, help="cases per transaction")
    recompute.add_argument("--workers", type=_positive, default=1, help="processes (default 1)")
    recompute.add_argument("--quiet", action="store_true", help="no progress bar")
    recompute.set_defaults(handler=cmd_sla_recompute)

    privacy = commands.add_parser("privacy", help="data-subject rights and retention")
    privacy_commands = privacy.add_subparsers(
        dest="privacy_command", required=True, metavar="COMMAND"
    )
    export = privacy_commands.add_parser(
        "export", help="print everything held about a contact as JSON"
    )
    export.add_argument("email", help="an email address of the contact")
    export.set_defaults(handler=cmd_privacy_export)
    erase = privacy_commands.add_parser(
        "erase", help="erase a contact's personal data everywhere (cannot be undone)"
    )
    erase.add_argument("email", help="an email address of the contact")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(handler=cmd_privacy_erase)
    retention = privacy_commands.add_parser("retention", help="retention policies")
    retention_commands = retention.add_subparsers(
        dest="retention_command", required=True, metavar="COMMAND"
    )
    retention_run = retention_commands.add_parser(
        "run", help="anonymise or delete the closed cases whose retention has passed"
    )
    retention_run.add_argument(
        "--dry-run", action="store_true", help="print what would be done, change nothing"
    )
    retention_run.set_defaults(handler=cmd_privacy_retention_run)

    pii = commands.add_parser("pii", help="personal data")
    pii_commands = pii.add_subparsers(dest="pii_command", required=True, metavar="COMMAND")
    scan = pii_commands.add_parser(
        "scan", help="print the personal data found in standard input as JSON"
    )
    scan.set_defaults(handler=cmd_pii_scan)

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="recompute the audit log's hash chain and report the first broken link"
    )
    verify.set_defaults(handler=cmd_audit_verify)

    keys = commands.add_parser("keys", help="encryption keys for message text and files")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    generate = keys_commands.add_parser(
        "generate", help="print a new key line for KIWIDESK_ENCRYPTION_KEYS"
    )
    generate.add_argument("--id", default="", help="the key id (default: k + today's date)")
    generate.set_defaults(handler=cmd_keys_generate)
    keys_status = keys_commands.add_parser(
        "status", help="count stored values and files by the key that seals them"
    )
    keys_status.set_defaults(handler=cmd_keys_status)
    rotate = keys_commands.add_parser(
        "rotate", help="queue re-encryption of everything not under the current key"
    )
    rotate.set_defaults(handler=cmd_keys_rotate)

    manage = commands.add_parser("manage", help="run any Django management command")
    manage.add_argument("arguments", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)
    return parser


def _serve_arguments(parser: argparse.ArgumentParser, *, port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=port)
    parser.add_argument("--threads", type=_positive, default=8)
    parser.add_argument("--no-worker", action="store_true", help="do not run background tasks")


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _port(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


# Commands -----------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate()
    print("Database is up to date.")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from django.conf import settings

    from kiwidesk.seed.demo import ensure_demo_login

    _migrate()
    messages = args.messages or args.cases * MESSAGES_PER_CASE
    result = _seed(cases=args.cases, messages=messages, seed=args.seed, quiet=args.quiet)
    login = ensure_demo_login(settings.DATA_DIR)
    print(
        f"Seeded {result.cases} cases, {result.threads} threads, {result.messages} messages, "
        f"{result.events} events and {result.contacts} contacts in {result.seconds:.1f} s."
    )
    print(f"Demo login: {login.email} / {login.password}")
    return 0


def cmd_createagent(args: argparse.Namespace) -> int:
    from django.core.validators import validate_email

    from kiwidesk.accounts.models import Agent
    from kiwidesk.accounts.services import create_agent

    email = args.email.strip().lower()
    validate_email(email)
    if Agent.objects.filter(email=email).exists():
        raise CliError(f"an agent with the email {email} already exists")
    password = args.password or secrets.token_urlsafe(12)
    agent = create_agent(
        email, name=args.name, password=password, is_admin=args.admin, clearance=args.clearance
    )
    print(f"Created {'admin' if args.admin else 'agent'} {agent.email}.")
    if not args.password:
        print(f"Password: {password}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from kiwidesk.accounts.services import DEFAULT_SCOPES, TokenRefusedError, issue_token

    try:
        issued = issue_token(
            _agent(args.email),
            name=args.name,
            scopes=args.scope or DEFAULT_SCOPES,
            days=args.days,
        )
    except TokenRefusedError as exc:
        raise CliError(str(exc)) from None
    expires_at = issued.token.expires_at
    print(
        f"API token ({issued.token.scopes}; expires {expires_at:%Y-%m-%d}) "
        "shown once, keep it somewhere safe:",
        file=sys.stderr,
    )
    print(issued.secret)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(host=args.host, port=args.port, threads=args.threads, worker=not args.no_worker)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from kiwidesk.cases import tasks as case_tasks
    from kiwidesk.channels.webchat import tasks as chat_tasks
    from kiwidesk.ingest import tasks as ingest_tasks
    from kiwidesk.privacy import tasks as privacy_tasks
    from kiwidesk.sla import timers as sla_timers

    # A worker that died mid-task left sends "sending" and webhook deliveries
    # unprocessed: queue them again before taking new work.
    case_tasks.requeue_stalled()
    ingest_tasks.requeue_stalled()
    chat_tasks.end_idle_chats.call()
    sla_timers.start()
    privacy_tasks.start()  # retention: a run now, then daily
    call_command("db_worker")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    login = prepare_demo()
    greeting = f"Log in as {login.email} with the password {login.password}"
    _serve(
        host=args.host,
        port=args.port,
        threads=args.threads,
        worker=not args.no_worker,
        greeting=greeting,
    )
    return 0


def cmd_import_mail(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from kiwidesk.channels.email.importer import import_mailbox
    from kiwidesk.channels.email.mailboxes import open_mailbox

    path = Path(args.path)
    source = args.source or path.resolve().as_uri()
    if len(source) > MAX_SOURCE_LENGTH:
        raise CliError(f"the source name is over {MAX_SOURCE_LENGTH} characters; pass --source")
    _migrate()
    team = _team(args.team) if args.team else None
    mailbox = open_mailbox(path)
    with tqdm(total=mailbox.count, unit="msg", disable=args.quiet) as bar:
        summary = import_mailbox(mailbox, source=source, team=team, progress=bar.update)
    print(
        f"Read {summary.read} messages: {summary.stored} stored ({summary.new_cases} new cases), "
        f"{summary.duplicates} duplicates, {summary.quarantined} quarantined "
        f"in {summary.seconds:.1f} s ({summary.messages_per_second:.0f} messages/s)."
    )
    return 0


def cmd_fetch_mail(args: argparse.Namespace) -> int:
    import threading

    from kiwidesk.channels.email import imap

    mailboxes = imap.active_mailboxes(args.mailbox)
    if args.once:
        summaries = imap.fetch_all(mailboxes)
        for summary in summaries:
            print(summary)
        if not summaries:
            print("No active mailbox to fetch (add one in the admin: Email channel > Mailboxes).")
        return 1 if any(summary.error for summary in summaries) else 0
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    way = "IMAP IDLE" if args.idle else f"polling every {args.poll_seconds} s"
    print(f"Fetching {len(mailboxes)} mailboxes ({way}); stop with Ctrl-C.", flush=True)
    imap.watch(
        stop,
        use_idle=args.idle,
        poll_seconds=args.poll_seconds,
        names=args.mailbox,
        report=lambda summary: print(summary, flush=True),
    )
    print("Stopped fetching mail.", flush=True)
    return 0


def cmd_sla_recompute(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kiwidesk.cases.models import Case
    from kiwidesk.sla.rebuild import rebuild_clocks
    from kiwidesk.sla.timers import schedule_upcoming

    with tqdm(total=Case.objects.count(), unit="case", unit_scale=True, disable=args.quiet) as bar:
        summary = rebuild_clocks(batch=args.batch, workers=args.workers, progress=bar.update)
    # The rebuild replaced every clock: queue the timers of the next hours (the sweep
    # finds the rest).
    schedule_upcoming()
    print(
        f"Rebuilt {summary.clocks} clocks of {summary.cases} cases from {summary.events} events "
        f"in {summary.seconds:.1f} s."
    )
    return 0


def cmd_pii_scan(args: argparse.Namespace) -> int:
    import json

    from kiwidesk.pii import detect

    findings = detect(sys.stdin.read())
    print(json.dumps([finding.as_json() for finding in findings]))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from kiwidesk.privacy.audit import verify_chain

    report = verify_chain()
    if not report.is_intact:
        print(f"Audit log broken after {report.records} records: {report.problem}", file=sys.stderr)
        return 1
    print(f"{report.records} records, chain intact")
    return 0


def cmd_keys_generate(args: argparse.Namespace) -> int:
    import datetime

    from kiwidesk.vault.cipher import KeyConfigError, new_key_line

    key_id = args.id or f"k{datetime.datetime.now(tz=datetime.UTC):%Y%m%d}"
    try:
        print(new_key_line(key_id))
    except KeyConfigError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_keys_status(args: argparse.Namespace) -> int:
    from kiwidesk.privacy.key_rotation import key_status
    from kiwidesk.vault.cipher import VaultError
    from kiwidesk.vault.keys import keyring

    try:
        keys = keyring()
    except VaultError as exc:
        raise CliError(str(exc)) from None
    status = key_status()
    print(f"current key: {keys.current_id}; configured: {', '.join(keys.keys)}")
    columns = [*status.columns.items(), *status.binary_columns.items()]
    for column, counts in [*columns, ("files", status.files)]:
        shown = ", ".join(f"{key_id}: {count}" for key_id, count in sorted(counts.items()))
        print(f"{column}: {shown or 'nothing stored'}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from kiwidesk.privacy.key_rotation import rotate_keys
    from kiwidesk.vault.cipher import VaultError
    from kiwidesk.vault.keys import keyring

    try:
        current = keyring().current_id
    except VaultError as exc:
        raise CliError(str(exc)) from None
    rotate_keys.enqueue()
    print(
        f"Queued: the worker re-encrypts everything under key {current!r} in batches; "
        "`kiwidesk keys status` shows the progress."
    )
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kiwidesk manage", *args.arguments])
    return 0


# Helpers ------------------------------------------------------------------------------


def cmd_privacy_export(args: argparse.Namespace) -> int:
    import json

    from kiwidesk.privacy.subject_rights import export_subject

    document = export_subject(None, _subject(args.email).pk)
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    print()
    # The email is the operator's own input: the audit log keeps only the contact id.
    print(f"Exported contact #{document['contact']['id']}.", file=sys.stderr)
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    from kiwidesk.privacy.subject_rights import erase_subject

    contact = _subject(args.email)
    if not args.yes:
        print(
            f"This erases contact #{contact.pk} ({args.email.strip()}): their name, addresses, "
            "messages, attachments, calls and chats, everywhere. It cannot be undone.",
            file=sys.stderr,
        )
        answer = input("Type the address again to confirm: ")
        if answer.strip().lower() != args.email.strip().lower():
            print("Not confirmed: nothing was erased.", file=sys.stderr)
            return 1
    summary = erase_subject(None, contact.pk)
    print(f"Erased contact #{contact.pk}: {summary.describe()}")
    return 0


def cmd_privacy_retention_run(args: argparse.Namespace) -> int:
    from kiwidesk.privacy.retention import run_retention

    run = run_retention(is_dry_run=args.dry_run)
    done = {"anonymise": "anonymised", "delete": "deleted"}
    for outcome in run.policies:
        verb = f"would {outcome.action}" if run.is_dry_run else done[outcome.action]
        noun = "case" if outcome.cases == 1 else "cases"
        print(f"{outcome.policy}: {verb} {outcome.cases} {noun}")
    if not run.policies:
        print("No active retention policies.")
    prefix = "Dry run, nothing changed: " if run.is_dry_run else ""
    print(f"{prefix}{run.describe()}")
    return 0


def _subject(email: str) -> Any:
    from kiwidesk.contacts.services import InvalidIdentityError
    from kiwidesk.privacy.access import SubjectNotFoundError
    from kiwidesk.privacy.subject_rights import contact_by_email

    try:
        return contact_by_email(email)
    except (InvalidIdentityError, SubjectNotFoundError) as error:
        raise CliError(str(error)) from None


def prepare_demo() -> Any:
    """Migrate, seed the demo cases into an empty database, and return the demo login."""
    from django.conf import settings

    from kiwidesk.cases.models import Case
    from kiwidesk.seed.demo import ensure_demo_login

    _migrate()
    if not Case.objects.exists():
        print(f"Seeding {DEMO_CASES} demo cases…")
        _seed(cases=DEMO_CASES, messages=DEMO_CASES * MESSAGES_PER_CASE, seed=DEFAULT_SEED)
    return ensure_demo_login(settings.DATA_DIR)


def _migrate() -> None:
    from django.conf import settings
    from django.core.management import call_command

    for alias in settings.DATABASES:
        call_command("migrate", database=alias, verbosity=0, interactive=False)


def _seed(*, cases: int, messages: int, seed: int, quiet: bool = False) -> Any:
    from tqdm import tqdm

    from kiwidesk.seed.load import ensure_empty, seed_database
    from kiwidesk.seed.sla import seed_sla
    from kiwidesk.sla.timers import schedule_upcoming

    ensure_empty()
    with tqdm(total=messages, unit="msg", unit_scale=True, disable=quiet) as bar:
        result = seed_database(cases=cases, messages=messages, seed=seed, progress=bar.update)
    seed_sla(cases=cases)
    schedule_upcoming()
    return result


def _agent(email: str) -> Any:
    from kiwidesk.accounts.models import Agent

    agent = Agent.objects.filter(email=email.strip().lower()).first()
    if agent is None:
        raise CliError(f"no agent with the email {email}")
    return agent


def _team(slug: str) -> Any:
    from kiwidesk.accounts.models import Team

    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise CliError(f"no team with the slug {slug}")
    return team


def _serve(*, host: str, port: int, threads: int, worker: bool, greeting: str = "") -> None:
    """Serve until SIGINT or SIGTERM, with the task worker and mail fetcher as children.

    They are separate processes so a crashing task or mailbox cannot take the web
    server down; they are stopped when the server stops, and die with it if we are
    killed. The fetcher idles until a mailbox is configured in the admin.
    """
    from waitress import create_server

    from kiwidesk.wsgi import application

    _refresh_planner_statistics()
    server = create_server(application, host=host, port=port, threads=threads)
    children = [_start_child("worker"), _start_child("fetch-mail", "--idle")] if worker else []
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"Kiwidesk is serving on http://{host}:{server.effective_port}/", flush=True)
    if greeting:
        print(greeting, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        for child in children:
            _stop_child(child)
        print("Kiwidesk stopped.", flush=True)


def _refresh_planner_statistics() -> None:
    """ANALYZE a SQLite database that has no statistics, or has grown tenfold since.

    Without statistics SQLite sorts every open case for one inbox page instead of
    walking the updated_at index (bench/README.md); this is the check SQLite's own
    `PRAGMA optimize` makes, done once at start-up because Django's connections are
    too short-lived for it.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        has_statistics = cursor.fetchone()[0] == 1
        known = 0
        if has_statistics:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'cases_case' LIMIT 1")
            row = cursor.fetchone()
            known = int(row[0].split()[0]) if row else 0
        cursor.execute("SELECT count(*) FROM cases_case")
        actual = cursor.fetchone()[0]
        if not has_statistics or actual > 10 * max(known, 10):
            cursor.execute("ANALYZE")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _start_child(*command: str) -> subprocess.Popen[bytes]:
    """Start `kiwidesk COMMAND` (the task worker, the mail fetcher) as a child process."""
    child = subprocess.Popen(  # our own interpreter and module
        [sys.executable, "-m", "kiwidesk.cli", *command], preexec_fn=_die_with_parent
    )
    print(f"Started kiwidesk {command[0]} (pid {child.pid}).", flush=True)
    return child


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the worker if the server is killed without cleaning up."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the finally block in _serve still stops the worker


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


if __name__ == "__main__":
    sys.exit(main())
