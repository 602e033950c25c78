from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiwidesk.channels.email.adapter import parse
from kiwidesk.channels.email.content import html_to_text, strip_quotes, strip_signature
from kiwidesk.channels.email.mime import Address
from tests.channels.email.mail import SOURCE, TALON
from tests.conftest import require_service

STANDARD_REPLIES = sorted((TALON / "standard_replies").glob("*.eml"))
SIGNATURES = sorted((TALON / "signature" / "emails" / "stripped").glob("*_body"))
HTML_REPLIES = sorted((TALON / "html_replies").glob("*.html"))


@pytest.fixture(autouse=True)
def _talon_fixtures() -> None:
    require_service(TALON.is_dir(), f"talon's fixtures are not at {TALON}")


def _plain_text(path: Path) -> str:
    """The text/plain body as talon's own test reads it."""
    message = parse(path.read_bytes(), SOURCE)
    return message.full_text


def _expected_reply(path: Path) -> str:
    """talon's expected reply: the *_reply_text file, or "Hello" where there is none."""
    expected = path.with_name(path.stem + "_reply_text")
    return expected.read_text() if expected.exists() else "Hello"


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _sender(path: Path) -> Address:
    """talon's *_sender file holds a name or an address."""
    written = path.with_name(path.name.removesuffix("body") + "sender").read_text().strip()
    name, _, domain = written.partition("@")
    return Address(name=name, email=written if domain else "sender@example.com")


def _without_signature(path: Path) -> str:
    """talon's expectation: the body minus its *_signature file."""
    body = path.read_text().strip()
    signature = path.with_name(path.name.removesuffix("body") + "signature").read_text()
    return body[: len(body) - len(signature)].strip()


@pytest.mark.parametrize("path", STANDARD_REPLIES, ids=lambda path: path.name)
def test_reply_text_of_talon_standard_replies(path: Path) -> None:
    text = _plain_text(path)

    reply = strip_quotes(text)

    assert _normalised(reply) == _normalised(_expected_reply(path))


@pytest.mark.parametrize("path", SIGNATURES, ids=lambda path: path.name)
def test_signature_of_talon_fixtures_is_stripped(path: Path) -> None:
    body = path.read_text()

    stripped = strip_signature(body, _sender(path))

    assert stripped.strip() == _without_signature(path)


@pytest.mark.parametrize("path", HTML_REPLIES, ids=lambda path: path.name)
def test_reply_text_of_talon_html_replies(path: Path) -> None:
    html = path.read_bytes().decode("utf-8", "replace")

    reply = strip_quotes(html_to_text(html))

    assert re.sub(r"\s", "", reply) == "Hi.Iamfine.Thanks,Alex"


def test_iphone_reply_keeps_its_footer_until_the_signature_is_stripped() -> None:
    text = _plain_text(TALON / "standard_replies" / "iphone.eml")

    reply = strip_signature(strip_quotes(text))

    assert reply == "Hello"


def test_interleaved_replies_are_not_stripped() -> None:
    text = "On Mon, 2 Mar 2026, Support wrote:\n> Which day?\nThursday.\n> Which time?\nTen."

    reply = strip_quotes(text)

    assert reply == text


def test_reply_below_the_quote_is_kept() -> None:
    text = "> Which day?\n> \nThursday, please."

    reply = strip_quotes(text)

    assert reply == "Thursday, please."


def test_outlook_header_block_starts_the_quote() -> None:
    text = "Done.\n\nFrom: Support\nSent: Monday\nTo: Customer\nSubject: Booking\n\nWhich day?"

    reply = strip_quotes(text)

    assert reply == "Done."


def test_a_sentence_ending_in_wrote_is_not_a_quote() -> None:
    text = "Here is what my colleague wrote:\n\nThe screen froze."

    reply = strip_quotes(text)

    assert reply == text


def test_text_without_a_signature_is_unchanged() -> None:
    text = "The screen froze.\n\nIt happened twice this morning."

    stripped = strip_signature(text, Address(name="Customer", email="customer@example.org"))

    assert stripped == text


def test_dash_dash_delimiter_starts_a_signature() -> None:
    text = "The screen froze.\n\n-- \nClinic front desk\n+44 20 7946 0000"

    stripped = strip_signature(text)

    assert stripped == "The screen froze."


def test_html_blockquote_becomes_quoted_lines_and_scripts_are_dropped() -> None:
    html = (
        "<style>p{}</style><p>Yes.</p>"
        "<blockquote><p>Which day?</p></blockquote><script>x()</script>"
    )

    text = html_to_text(html)

    assert text == "Yes.\n\n> Which day?"


def test_html_lists_and_line_breaks_become_lines() -> None:
    html = "Steps:<br><ul><li>Open</li><li>Save</li></ul>"

    text = html_to_text(html)

    assert text == "Steps:\n- Open\n- Save"


def test_part_text_normalises_line_endings() -> None:
    message = parse(b"From: customer@example.org\r\n\r\nOne\r\nTwo\rThree\r\n", SOURCE)

    assert message.full_text == "One\nTwo\nThree"


def test_html_preformatted_text_keeps_its_lines() -> None:
    html = "<p>Log:</p><pre>line one\n  line two</pre>"

    text = html_to_text(html)

    assert text == "Log:\n\nline one\n  line two"
