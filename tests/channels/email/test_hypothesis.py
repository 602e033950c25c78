from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kiwidesk.channels.email.adapter import UnparseableMessageError, parse
from tests.channels.email.mail import SOURCE

HEADER_LINES = [
    b"From: customer@example.org",
    b"From: =?utf-8?q?Cl=C3=ADnica?= <customer@example.org>",
    b"From: =?x-bad?b?////?= <",
    b"Sender: robot@example.org",
    b"To: support+token123@kiwidesk.test, billing@example.org",
    b"Subject: =?utf-8?b?broken",
    b"Subject: \xff\xfe raw bytes",
    b"Message-ID: <id@example.org>",
    b"Message-ID: <<<>>>",
    b"Date: Tue, 31 Feb 99999 25:61:61 +9999",
    b"References: <a@b> <c@d",
    b"MIME-Version: 1.0",
    b"Content-Type: multipart/mixed; boundary=b",
    b"Content-Type: multipart/alternative",
    b"Content-Type: text/plain; charset=x-unknown",
    b"Content-Type: text/html; charset=base64",
    b"Content-Type: message/rfc822",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Transfer-Encoding: x-uuencode",
    b"Content-Disposition: attachment; filename*=utf-8''%FF%FE.pdf",
    b"Auto-Submitted: auto-replied",
    b"--b",
    b"--b--",
    b"",
]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_are_unparseable(data: bytes) -> None:
    with contextlib.suppress(UnparseableMessageError):
        parse(data, SOURCE)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HEADER_LINES), max_size=30), st.binary(max_size=500))
def test_mail_shaped_bytes_parse_or_are_unparseable(lines: list[bytes], body: bytes) -> None:
    data = b"\r\n".join(lines) + b"\r\n\r\n" + body

    with contextlib.suppress(UnparseableMessageError):
        parse(data, SOURCE)
