"""Put mail into a Dovecot account the way a delivery would, through IMAP APPEND."""

from __future__ import annotations

from collections.abc import Iterable

from imapclient import IMAPClient

from tests.channels.email.imap.dovecot import Dovecot


def mail(number: int, *, tag: str = "imap", sender: str = "") -> bytes:
    """A plain customer mail; each number has its own sender and Message-ID."""
    sender = sender or f"customer{number}@example.com"
    return (
        f"From: Customer {number} <{sender}>\r\n"
        "To: support@kiwidesk.test\r\n"
        f"Subject: Question {number}\r\n"
        f"Message-ID: <{tag}-{number}@mail.example.com>\r\n"
        "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
        "\r\n"
        f"The export button does nothing (number {number}).\r\n"
    ).encode()


def client(server: Dovecot, user: str) -> IMAPClient:
    imap = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    imap.login(user, server.password)
    return imap


def append(server: Dovecot, user: str, messages: Iterable[bytes], folder: str = "INBOX") -> None:
    with client(server, user) as imap:
        for raw in messages:
            imap.append(folder, raw)
