"""A provider's file host on 127.0.0.1: what channel adapters download media from."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kiwidesk.cases.models import Attachment, Message


@dataclass
class FileHost:
    """What the host serves (path → status, content type, body) and each request it had."""

    base_url: str = ""
    routes: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    # Answers paths without a route (a provider's lookup of any media id); else 404.
    fallback: Callable[[str], tuple[int, str, bytes]] | None = None
    # When set, a request without exactly this Authorization header gets a 401.
    required_authorization: str = ""

    def serve(self, path: str, body: bytes, *, content_type: str, status: int = 200) -> str:
        self.routes[path] = (status, content_type, body)
        return self.base_url + path

    def answer(self, path: str) -> tuple[int, str, bytes]:
        if path in self.routes:
            return self.routes[path]
        if self.fallback is not None:
            return self.fallback(path)
        return 404, "text/plain", b""


@pytest.fixture
def file_host() -> Iterator[FileHost]:
    host = FileHost()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.requests.append(
                {"path": self.path, "authorization": self.headers.get("Authorization", "")}
            )
            status, content_type, body = host.answer(self.path)
            given = self.headers.get("Authorization", "")
            if host.required_authorization and given != host.required_authorization:
                status, content_type, body = 401, "text/plain", b"unauthorised"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serving = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    serving.start()
    host.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        serving.join()


def stored_files(message: Message) -> list[tuple[str, str, bytes]]:
    """Each attachment of `message` as (filename, content type, bytes)."""
    attachments = Attachment.objects.filter(message=message).order_by("pk")
    return [(a.filename, a.content_type, a.file.read()) for a in attachments]
