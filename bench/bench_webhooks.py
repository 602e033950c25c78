"""Time Twilio and WhatsApp webhooks through the real server, then wait for the worker.

    python bench/bench_webhooks.py                        # 2,000 of each, 50 senders
    python bench/bench_webhooks.py --requests 500         # a quick run
    python bench/bench_webhooks.py --wrk 20               # wrk's C client, 20 s per adapter

Each run uses a new, empty data folder (SQLite) under bench/out/, migrates it and
starts `kiwidesk serve --port 0` (waitress with its embedded task worker) with test
secrets in its environment. 50 threads, each with its own keep-alive connection to
127.0.0.1, post signed Twilio SMS bodies, then signed Meta WhatsApp bodies, from a
pool of 1,000 numbers (so some messages continue an open case). It prints the
latency of the webhook answers, then how long the worker took to store everything
and whether every message was stored exactly once.

Target (issue): p95 under 50 ms with 50 concurrent senders.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
TWILIO_TOKEN = "bench-twilio-auth-token"  # noqa: S105 (a throw-away server's)
WHATSAPP_SECRET = "bench-whatsapp-app-secret"  # noqa: S105
TWILIO_PATH = "/channels/twilio/messages/"
WHATSAPP_PATH = "/channels/whatsapp/webhook/"
SUPPORT_NUMBER = "+447700900999"
PHONE_NUMBER_ID = "106540352242922"
TARGET_P95_MS = 50.0
# Bounds: no request may hang the run, and the run as a whole has a ceiling.
REQUEST_TIMEOUT_SECONDS = 30.0
SENDING_LIMIT_SECONDS = 600.0
_SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)/")


@dataclass(frozen=True)
class Webhook:
    path: str
    body: bytes
    headers: dict[str, str]
    external_id: str


@dataclass(frozen=True)
class Latencies:
    name: str
    seconds: list[float]
    wall_seconds: float
    failures: int

    def report(self) -> str:
        ordered = sorted(self.seconds)
        p50 = statistics.median(ordered) * 1000
        p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
        verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
        return (
            f"{self.name}: {len(ordered)} answered, {self.failures} failed; "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ordered[-1] * 1000:.1f} ms; "
            f"{len(ordered) / self.wall_seconds:.0f} requests/s "
            f"(target p95 < {TARGET_P95_MS:.0f} ms: {verdict})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000, help="per adapter")
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="requests/s of all senders together (0: flat out)"
    )
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument(
        "--accept-only", action="store_true", help="serve without the worker: time accepting alone"
    )
    parser.add_argument(
        "--wrk",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="load with wrk (C, keeps the client's cost off the server's cores) for this long",
    )
    args = parser.parse_args()
    if args.wrk and not shutil.which("wrk"):
        raise SystemExit("--wrk needs wrk (apt-get install wrk)")

    folder = OUT_DIR / f"webhooks-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    environment = _environment(folder)
    _kiwidesk_run(["migrate"], environment)
    server, port = _start_server(environment, worker=not args.accept_only)
    try:
        host = f"127.0.0.1:{port}"
        twilio = [_twilio(host, index) for index in range(args.requests)]
        whatsapp = [_whatsapp(index) for index in range(args.requests)]
        print(f"Server on {host}, data in {folder}; {args.senders} concurrent senders.")
        started = time.monotonic()
        answered_in_all = 0
        for name, webhooks in (("Twilio", twilio), ("WhatsApp", whatsapp)):
            if args.wrk:
                answered, webhooks[:] = _send_with_wrk(
                    name, port, webhooks, senders=args.senders, seconds=args.wrk
                )
                answered_in_all += answered
                continue
            latencies = _send_all(name, port, webhooks, senders=args.senders, rate=args.rate)
            print(latencies.report(), flush=True)
        if args.accept_only:
            return 0
        expected = [w.external_id for w in twilio + whatsapp]
        # wrk's last requests may be unanswered: those may or may not have arrived.
        at_least = answered_in_all if args.wrk else len(expected)
        drained = _wait_until_processed(folder, at_least, timeout=args.drain_timeout)
        took = drained - started
        print(
            f"Worker: every delivery processed {took:.1f} s after the first request "
            f"({len(expected) / took:.0f} messages/s end to end)."
        )
        return _check_stored_once(folder, expected, at_least=at_least)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _environment(folder: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "KIWIDESK_DATA_DIR": str(folder / "data"),
        "KIWIDESK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "KIWIDESK_WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
    }
    for variable in ("DATABASE_URL", "KIWIDESK_PUBLIC_URL", "KIWIDESK_TASK_BACKEND"):
        environment.pop(variable, None)
    return environment


def _kiwidesk_run(arguments: list[str], environment: dict[str, str]) -> None:
    command = [sys.executable, "-m", "kiwidesk.cli", *arguments]
    subprocess.run(command, env=environment, check=True, capture_output=True)  # noqa: S603


def _start_server(
    environment: dict[str, str], *, worker: bool
) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "kiwidesk.cli", "serve", "--port", "0"]
    if not worker:
        command.append("--no-worker")
    server = subprocess.Popen(  # noqa: S603
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert server.stdout is not None
    for line in server.stdout:
        found = _SERVING.search(line)
        if found:
            # Keep draining its output so the server never blocks on a full pipe.
            threading.Thread(target=server.stdout.read, daemon=True).start()
            return server, int(found.group(1))
    server.wait()
    raise SystemExit("the server stopped before it was serving")


def _twilio(host: str, index: int) -> Webhook:
    sid = f"SM{index:032x}"
    fields = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": _customer(index),
        "To": SUPPORT_NUMBER,
        "Body": f"Is booking {index} still on for tonight?",
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    body = urlencode(fields).encode()
    # Twilio signs the URL it called and the sorted form fields (one value each here).
    validator = RequestValidator(TWILIO_TOKEN)
    signature = validator.compute_signature(f"http://{host}{TWILIO_PATH}", fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": str(signature),
    }
    return Webhook(TWILIO_PATH, body, headers, sid)


def _whatsapp(index: int) -> Webhook:
    wamid = f"wamid.bench{index:08d}"
    wa_id = _customer(index).lstrip("+")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": SUPPORT_NUMBER.lstrip("+"),
            "phone_number_id": PHONE_NUMBER_ID,
        },
        "contacts": [{"profile": {"name": f"Customer {index % 1000}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": wamid,
                "timestamp": "1772442000",
                "type": "text",
                "text": {"body": f"Can I move table {index} to 20:00?"},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
            ],
        }
    ).encode()
    digest = hmac.new(WHATSAPP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    return Webhook(WHATSAPP_PATH, body, headers, wamid)


# wrk cycles through the requests of a file, one per line, each thread from its own
# share of them, and prints the percentiles at the end.
_WRK_SCRIPT = """
requests, next_index, last_index = {}, 0, 0  -- globals: done() reads next_index
local shares = {}
function setup(thread)
  thread:set("share", #shares)
  table.insert(shares, thread)
end
function init(args)
  for line in io.lines(args[1]) do
    local path, header, value, kind, body = line:match("^(.-)\t(.-)\t(.-)\t(.-)\t(.*)$")
    table.insert(requests, wrk.format("POST", path,
      {[header] = value, ["Content-Type"] = kind}, body))
  end
  local size = math.floor(#requests / tonumber(args[2]))
  next_index = share * size + 1
  last_index = next_index + size - 1
end
function request()
  local chosen = requests[next_index]
  if next_index < last_index then next_index = next_index + 1 end
  return chosen
end
function done(summary, latency, requests)
  io.write(string.format("WRK %d %d %d %d %.3f %.3f %.3f %.3f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    summary.duration, latency.max, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean))
  for _, thread in ipairs(shares) do
    io.write(string.format("WRKT %d %d\\n", thread:get("share"), thread:get("next_index")))
  end
end
"""
WRK_THREADS = 2


def _send_with_wrk(
    name: str, port: int, webhooks: list[Webhook], *, senders: int, seconds: float
) -> tuple[int, list[Webhook]]:
    """Load the server with wrk for `seconds`; print the latencies.

    Each thread walks its own share of the webhooks, so every request is a new
    message as long as there are more webhooks than wrk sends. Returns how many
    were answered and the webhooks wrk sent (the last few may have been in
    flight, unanswered, when it stopped).
    """
    folder = OUT_DIR / "wrk"
    folder.mkdir(parents=True, exist_ok=True)
    script, requests = folder / "webhooks.lua", folder / f"{name.lower()}.tsv"
    script.write_text(_WRK_SCRIPT)
    requests.write_text(
        "".join(
            f"{w.path}\t{header}\t{value}\t{w.headers['Content-Type']}\t{w.body.decode()}\n"
            for w in webhooks
            for header, value in w.headers.items()
            if header != "Content-Type"
        )
    )
    command = [
        "wrk", f"-t{WRK_THREADS}", f"-c{senders}", f"-d{seconds:.0f}s", "--timeout", "30s",
        "-s", str(script), f"http://127.0.0.1:{port}", "--", str(requests), str(WRK_THREADS),
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    fields = next(line for line in output.splitlines() if line.startswith("WRK ")).split()[1:]
    sent, errors = int(fields[0]), int(fields[1])
    duration_s = int(fields[2]) / 1e6
    p50, p95, p99 = (float(value) / 1000 for value in fields[4:7])
    slowest = int(fields[3]) / 1000
    verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
    print(
        f"{name} (wrk, {senders} connections, {seconds:.0f} s): {sent} answered, {errors} failed; "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {slowest:.1f} ms; "
        f"{sent / duration_s:.0f} requests/s (target p95 < {TARGET_P95_MS:.0f} ms: {verdict})",
        flush=True,
    )
    share = len(webhooks) // WRK_THREADS
    reached = dict(
        (int(thread), int(index))
        for _, thread, index in (
            line.split() for line in output.splitlines() if line.startswith("WRKT ")
        )
    )
    if any(index >= (thread + 1) * share for thread, index in reached.items()):
        raise SystemExit(f"wrk used up its {len(webhooks)} webhooks: raise --requests")
    generated = [w for t, index in reached.items() for w in webhooks[t * share : index - 1]]
    return sent - errors, generated


def _customer(index: int) -> str:
    # Ofcom's drama range: 1,000 numbers that are valid and reach no one.
    return f"+447700900{index % 1000:03d}"


def _send_all(
    name: str, port: int, webhooks: list[Webhook], *, senders: int, rate: float
) -> Latencies:
    """Post every webhook from `senders` threads, flat out or paced at `rate` in all."""
    pending = list(reversed(webhooks))
    lock = threading.Lock()
    seconds: list[float] = []
    failures: list[str] = []
    begin = time.monotonic()
    deadline = begin + SENDING_LIMIT_SECONDS

    def next_webhook() -> Webhook | None:
        with lock:
            if not pending or time.monotonic() >= deadline:
                return None
            due = begin + (len(webhooks) - len(pending)) / rate if rate else 0.0
            webhook = pending.pop()
        # Paced: a provider sends as messages arrive, not as fast as we answer.
        time.sleep(max(0.0, due - time.monotonic()))
        return webhook

    threads = [
        threading.Thread(target=_sender, args=(port, next_webhook, seconds, failures, lock))
        for _ in range(senders)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"{name}: first failure: {failures[0]}")
    return Latencies(name, seconds, time.monotonic() - started, len(failures))


def _sender(
    port: int,
    next_webhook: Callable[[], Webhook | None],
    seconds: list[float],
    failures: list[str],
    lock: threading.Lock,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
    while (webhook := next_webhook()) is not None:
        started = time.perf_counter()
        try:
            connection.request("POST", webhook.path, body=webhook.body, headers=webhook.headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            with lock:
                failures.append(repr(error))
            continue
        elapsed = time.perf_counter() - started
        with lock:
            if status in (200, 204):
                seconds.append(elapsed)
            else:
                failures.append(f"HTTP {status}")
    connection.close()


def _database(folder: Path, filename: str = "kiwidesk.sqlite3") -> sqlite3.Connection:
    uri = f"file:{folder / 'data' / filename}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=30)


def _wait_until_processed(folder: Path, expected: int, *, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Accepted bodies wait in the work queue's own file (kiwidesk.dbrouter).
        with _database(folder, "queue.sqlite3") as database:
            total, waiting = database.execute(
                "SELECT count(*), count(*) - count(processed_at) FROM ingest_delivery"
            ).fetchone()
        if total >= expected and waiting == 0:
            return time.monotonic()
        time.sleep(0.5)
    raise SystemExit(f"the worker had not processed everything after {timeout:.0f} s")


def _check_stored_once(folder: Path, expected: list[str], *, at_least: int) -> int:
    """Every answered webhook stored once; none twice; nothing that was never sent."""
    with _database(folder) as database:
        counts = dict(
            database.execute(
                "SELECT external_id, count(*) FROM cases_message WHERE direction = 'inbound' "
                "GROUP BY external_id"
            ).fetchall()
        )
        quarantined = database.execute("SELECT count(*) FROM ingest_quarantinedmessage").fetchone()
        cases = database.execute("SELECT count(*) FROM cases_case").fetchone()
    doubled = [external_id for external_id, count in counts.items() if count > 1]
    unknown = set(counts) - set(expected)
    print(
        f"Stored {sum(counts.values())} inbound messages on {cases[0]} cases; "
        f"{at_least} answered, {len(expected)} sent: {len(doubled)} stored twice, "
        f"{len(unknown)} never sent, {quarantined[0]} quarantined."
    )
    exactly_once = not doubled and not unknown and at_least <= len(counts) <= len(expected)
    print("Every message was stored exactly once." if exactly_once else "NOT stored exactly once.")
    return 0 if exactly_once else 1


if __name__ == "__main__":
    sys.exit(main())
