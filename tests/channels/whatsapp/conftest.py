"""Meta's webhook signed with a test app secret, and a local stand-in for the Graph API."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.channels.conftest import FileHost
from tests.queue import queue_commits

APP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-graph-access-token"
PHONE_NUMBER_ID = "106540352242922"
WEBHOOK_PATH = "/channels/whatsapp/webhook/"
FIXTURES = Path(__file__).parent / "fixtures"


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def _whatsapp_settings(settings: Any) -> None:
    settings.KIWIDESK_WHATSAPP_APP_SECRET = APP_SECRET
    settings.KIWIDESK_WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.KIWIDESK_WHATSAPP_ACCESS_TOKEN = ACCESS_TOKEN
    settings.KIWIDESK_WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID


@pytest.fixture(autouse=True)
def _graph_serves_any_media(file_host: FileHost, settings: Any) -> FileHost:
    """Meta's Graph API as far as media go: every media id has a small file to download."""

    def media(path: str) -> tuple[int, str, bytes]:
        media_id = path.rsplit("/", 1)[-1]
        if path.startswith("/files/"):
            return 200, "application/octet-stream", f"media {media_id}".encode()
        return (
            200,
            "application/json",
            json.dumps({"url": f"{file_host.base_url}/files/{media_id}"}).encode(),
        )

    file_host.fallback = media
    settings.KIWIDESK_WHATSAPP_GRAPH_URL = file_host.base_url + "/v23.0"
    return file_host


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_signed(client: Client, body: bytes, *, secret: str = APP_SECRET) -> Any:
    # The webhook only stores the body; its task runs when the request's insert commits.
    with queue_commits(execute=True):
        return client.post(
            WEBHOOK_PATH,
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature(body, secret)},
        )


def pywa(file: str, name: str) -> bytes:
    """One webhook body of pywa's fixtures, serialised as Meta sends it."""
    bodies = json.loads((FIXTURES / "pywa" / file).read_text())
    return json.dumps(bodies[name]).encode()


def webhook(*messages: dict[str, Any], statuses: tuple[dict[str, Any], ...] = ()) -> bytes:
    """A webhook body for our phone number with the given messages and statuses."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "447700900999", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Customer Example"}, "wa_id": "447700900123"}],
    }
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


def text_message(
    wamid: str = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgg", body: str = "Hi"
) -> dict[str, Any]:
    return {
        "from": "447700900123",
        "id": wamid,
        "timestamp": "1772442000",
        "type": "text",
        "text": {"body": body},
    }


@dataclass
class GraphStandIn:
    """What the Graph API received, and what it answers."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    answer: dict[str, Any] = field(
        default_factory=lambda: {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+447700900123", "wa_id": "447700900123"}],
            "messages": [{"id": "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOEQ2"}],
        }
    )


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    """A real HTTP server on 127.0.0.1 that records each request the client makes."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GraphHandler)
    stand_in = GraphStandIn(url=f"http://127.0.0.1:{server.server_port}/v23.0")
    server.stand_in = stand_in  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class _GraphHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        stand_in: GraphStandIn = self.server.stand_in  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", "0"))
        stand_in.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        answer = json.dumps(stand_in.answer).encode()
        self.send_response(stand_in.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return
