"""Generate a Maildir of realistic mail and time `kiwidesk import-mail` on it, end to end.

    python bench/bench_ingest.py                      # 20,000 messages, with the baseline
    python bench/bench_ingest.py --messages 2000      # a quick run
    python bench/bench_ingest.py --no-baseline        # without django-helpdesk

Each run uses a new data folder (SQLite) under bench/out/, migrates it, then imports
the Maildir twice in a subprocess: the first run stores, the second finds duplicates.
Then django-helpdesk's own importer (bench/helpdesk_baseline.py, in its own virtualenv)
imports a copy of the same Maildir, and the ratio of the two first imports is printed.
The CPU time of each import (its process and its parse workers) is shown beside the
wall time, because on a shared machine the wall time says more about the neighbours.
Mail: 30% replies (In-Reply-To and References to an earlier mail of the same sender,
with a quoted original and a signature), 20% with an attachment (a 4-40 KB PDF or PNG),
a few HTML-only, from a pool of senders a fifth the size of the mail.

Target (issue): 1,000 messages/s or more on 2 cores with SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from faker import Faker

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
TARGET_PER_SECOND = 1_000.0
REPLY_SHARE = 0.30
ATTACHMENT_SHARE = 0.20
HTML_ONLY_SHARE = 0.05
_SUMMARY = re.compile(
    r"Read (\d+) messages: (\d+) stored \((\d+) new cases\), (\d+) duplicates, "
    r"(\d+) quarantined in ([\d.]+) s"
)


@dataclass(frozen=True)
class Run:
    read: int
    stored: int
    new_cases: int
    duplicates: int
    quarantined: int
    import_seconds: float
    wall_seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.read / self.import_seconds


@dataclass(frozen=True)
class Baseline:
    importer: str
    messages: int
    seconds: float
    per_second: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-baseline", action="store_true", help="do not run django-helpdesk's importer"
    )
    args = parser.parse_args()

    folder = OUT_DIR / f"ingest-{args.messages}"
    shutil.rmtree(folder, ignore_errors=True)
    maildir = folder / "Maildir"
    started = time.perf_counter()
    size = write_maildir(maildir, count=args.messages, seed=args.seed)
    seconds = time.perf_counter() - started
    print(f"Wrote {args.messages} messages ({size / 1e6:.0f} MB) in {seconds:.1f} s")
    print(f"Load average before the imports: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    environment = {**os.environ, "KIWIDESK_DATA_DIR": str(folder / "data")}
    _kiwidesk(["migrate"], environment)
    first = _import(maildir, environment)
    again = _import(maildir, environment)
    baseline = None if args.no_baseline else _baseline(maildir, folder)
    _report(args.messages, first, again, baseline, folder)
    return 0 if first.per_second >= TARGET_PER_SECOND else 1


def write_maildir(root: Path, *, count: int, seed: int) -> int:
    """Write `count` messages into root/new; return their total size in bytes."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    senders = [(fake.name(), fake.unique.email()) for _ in range(max(1, count // 5))]
    last_by_sender: dict[str, tuple[str, str, str]] = {}
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    total = 0
    for number in range(count):
        name, address = rng.choice(senders)
        earlier = last_by_sender.get(address)
        is_reply = earlier is not None and rng.random() < REPLY_SHARE / 0.8
        mail = _mail(
            fake,
            rng,
            sender=(name, address),
            sent_at=start + timedelta(minutes=3 * number),
            replying_to=earlier if is_reply else None,
        )
        body = mail.get_body()
        quoted = body.get_content() if body is not None else ""
        last_by_sender[address] = (str(mail["Message-ID"]), str(mail["Subject"]), quoted)
        data = bytes(mail)
        (root / "new" / f"{number:07d}.bench:2,").write_bytes(data)
        total += len(data)
    return total


def _mail(
    fake: Faker,
    rng: random.Random,
    *,
    sender: tuple[str, str],
    sent_at: datetime,
    replying_to: tuple[str, str, str] | None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{sender[0]} <{sender[1]}>"
    mail["To"] = "Support <support@kiwidesk.test>"
    mail["Date"] = format_datetime(sent_at)
    mail["Message-ID"] = make_msgid(domain="mail.example.org")
    text = "\n\n".join(fake.paragraphs(nb=rng.randint(1, 4))) + f"\n\nThanks,\n{sender[0]}\n"
    if replying_to is not None:
        message_id, subject, quoted = replying_to
        mail["Subject"] = subject if subject.startswith("Re: ") else f"Re: {subject}"
        mail["In-Reply-To"] = message_id
        mail["References"] = message_id
        quote = "\n".join(f"> {line}" for line in quoted.splitlines())
        text += (
            f"\nOn {format_datetime(sent_at - timedelta(days=1))}, {sender[0]} wrote:\n{quote}\n"
        )
    else:
        mail["Subject"] = fake.sentence(nb_words=rng.randint(3, 8)).rstrip(".")
    if rng.random() < HTML_ONLY_SHARE:
        paragraphs = "".join(f"<p>{part}</p>" for part in text.split("\n\n"))
        mail.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
    else:
        mail.set_content(text)
    if rng.random() < ATTACHMENT_SHARE:
        kind = rng.choice(
            [("application", "pdf", "report.pdf"), ("image", "png", "screenshot.png")]
        )
        content = rng.randbytes(rng.randint(4_000, 40_000))
        mail.add_attachment(content, maintype=kind[0], subtype=kind[1], filename=kind[2])
    return mail


def _kiwidesk(arguments: list[str], environment: dict[str, str]) -> str:
    command = [sys.executable, "-m", "kiwidesk.cli", *arguments]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout


def _import(maildir: Path, environment: dict[str, str]) -> Run:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    output = _kiwidesk(["import-mail", str(maildir), "--quiet"], environment)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    match = _SUMMARY.search(output)
    if match is None:
        raise SystemExit(f"unexpected output: {output}")
    read, stored, new_cases, duplicates, quarantined = (int(match.group(n)) for n in range(1, 6))
    seconds = float(match.group(6))
    return Run(read, stored, new_cases, duplicates, quarantined, seconds, wall, cpu)


def _children_cpu() -> float:
    """CPU seconds of every finished child process, their own parse workers included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _baseline(maildir: Path, folder: Path) -> Baseline | None:
    """Run django-helpdesk's importer on (a copy of) the same Maildir, if the script is there."""
    script = BENCH_DIR / "helpdesk_baseline.py"
    if not script.exists():
        print("django-helpdesk baseline: bench/helpdesk_baseline.py is missing; not measured")
        return None
    command = [sys.executable, str(script), str(maildir), "--workdir", str(folder / "helpdesk")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    lines = done.stdout.strip().splitlines()
    if not lines:
        print(f"django-helpdesk baseline failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        return None
    found = json.loads(lines[-1])
    if done.returncode != 0:
        print(f"django-helpdesk baseline: not every message was imported:\n{done.stderr[-800:]}")
    return Baseline(found.get("importer", "django-helpdesk"), found["messages"],
                    found["seconds"], found["per_second"])  # fmt: skip


def _report(count: int, first: Run, again: Run, baseline: Baseline | None, folder: Path) -> None:
    print()
    print("| what | messages | seconds | messages/s | CPU s (all processes) |")
    print("|---|---|---|---|---|")
    for label, run in (("Kiwidesk, first import", first), ("Kiwidesk, again (duplicates)", again)):
        print(
            f"| {label}: {run.stored} stored, {run.new_cases} new cases, {run.duplicates} "
            f"duplicates, {run.quarantined} quarantined | {run.read} | {run.import_seconds:.1f} "
            f"| {run.per_second:.0f} | {run.cpu_seconds:.1f} |"
        )
    if baseline is not None:
        print(
            f"| {baseline.importer}, same Maildir | {baseline.messages} | "
            f"{baseline.seconds:.1f} | {baseline.per_second:.0f} | |"
        )
        ratio = first.per_second / baseline.per_second
        print(f"\nratio (Kiwidesk first import / helpdesk): {ratio:.1f}x")
    verdict = "ok" if first.per_second >= TARGET_PER_SECOND else "missed"
    print(f"target {TARGET_PER_SECOND:.0f} messages/s: {verdict}")
    result = {
        "messages": count,
        "first": asdict(first),
        "again": asdict(again),
        "baseline": asdict(baseline) if baseline is not None else None,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
