"""What the sender wrote: HTML as text, quoted replies and signatures stripped.

The full text is always kept beside the stripped one, so a wrong guess here hides
nothing for good. The rules follow the talon fixtures (tests/channels/email/):
a reply ends at the first attribution line ("On … wrote:", "-----Original Message-----",
an Outlook "From:/Sent:" block) or before a trailing block of "> " lines, and a
signature is a short tail that starts at "-- ", a sign-off, a mobile footer or a line
naming the sender.
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

from kiwidesk.channels.email.mime import Address

# "On Tue, 3 Apr 2012 at 16:19, Bob <bob@example.com> wrote:" and its translations;
# clients wrap it, so up to three lines are joined before matching.
_ATTRIBUTION_VERBS = (
    r"wrote|writes|a écrit|schrieb|escribió|ha scritto|schreef|skrev|kirjoitti|napisał"
    r"|escreveu|написал|написала|написал\(а\)|yazdı|napsal|írta"  # noqa: RUF001
)
_ATTRIBUTION = re.compile(rf"\b({_ATTRIBUTION_VERBS})\s*:\s*$", re.IGNORECASE)
# Or a date and an address and a colon: '26.06.2014, 14:41, "Alex" <alex@example.com>:'.
_ATTRIBUTION_ADDRESS = re.compile(r"<[^<>\s@]+@[^<>\s]+>\s*:\s*$")
_ATTRIBUTION_MAX_LENGTH = 300
_ATTRIBUTION_START = re.compile(r"^\s*(on|le|am|el|il|op|em|den|på|w dniu)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*[-_=*\s]*(original message|ursprüngliche nachricht|message d'origine"
    r"|mensaje original|messaggio originale|reply message)[-_=*\s]*$",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^\s*_{20,}\s*$")
# An Outlook-style block of the quoted mail's headers, in a few languages.
_HEADER_LINE = re.compile(
    r"^\s*\*?(from|sent|date|to|subject|cc|von|gesendet|datum|an|betreff|de|envoyé|objet|à"
    r"|от|отправлено|дата|кому|тема)\s*:",
    re.IGNORECASE,
)
FORWARD_MARKER = re.compile(
    r"^\s*(-{3,}\s*forwarded message\s*-{3,}|begin forwarded message:"
    r"|-{3,}\s*weitergeleitete nachricht\s*-{3,}|-{3,}\s*message transféré\s*-{3,})\s*$",
    re.IGNORECASE,
)

_SIGNATURE_DELIMITER = re.compile(r"^\s*(--|-{3,}|_{3,}|={3,}|—)\s*$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(sent from my|sent with|sent via|sent using|get outlook for|envoyé de mon"
    r"|von meinem .* gesendet)\b",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(thanks|thank you|thanks again|many thanks|thx|regards|best|best regards"
    r"|kind regards|warm regards|best wishes|cheers|sincerely|yours sincerely|yours"
    r"|all the best|merci|cordialement|grüße|viele grüße|mit freundlichen grüßen"
    r"|saludos|groeten)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
# talon's limits: a signature is at most 11 non-empty lines of at most 60 characters.
SIGNATURE_MAX_LINES = 11
SIGNATURE_MAX_LINE_LENGTH = 60
_NAME_LINE_MAX_WORDS = 4

_MULTIPLE_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


def strip_quotes(text: str) -> str:
    """Return the new part of a reply: the text before the quoted original.

    A reply written below the quote (bottom posting) keeps the text after it; when
    replies are interleaved with quoted lines, nothing is stripped.
    """
    lines = text.splitlines()
    marks = _mark_lines(lines)
    reply = _reply_lines(lines, marks)
    stripped = "\n".join(reply).strip("\n")
    return stripped if stripped.strip() else text.strip("\n")


def _mark_lines(lines: list[str]) -> str:
    """One letter per line: e(mpty), q(uoted), s(plitter), f(orward) or t(ext)."""
    marks = []
    for index, line in enumerate(lines):
        if not line.strip():
            marks.append("e")
        elif FORWARD_MARKER.match(line):
            marks.append("f")
        elif line.lstrip().startswith(">"):
            marks.append("q")
        elif _is_splitter(lines, index) and "f" not in marks[-6:]:
            marks.append("s")
        else:
            marks.append("t")
    return "".join(marks)


def _is_splitter(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line) or _OUTLOOK_RULE.match(line):
        return True
    if _HEADER_LINE.match(line):
        following = lines[index + 1 : index + 5]
        return sum(1 for other in following if _HEADER_LINE.match(other)) >= 2
    return any(_is_attribution(lines[index : index + count]) for count in (1, 2, 3))


def _is_attribution(window: list[str]) -> bool:
    """True when these lines, and no shorter tail of them, read "On <date>, <who> wrote:"."""
    if not all(line.strip() for line in window) or not window[-1].rstrip().endswith(":"):
        return False  # the cheap test first: this runs on every line of every mail
    joined = " ".join(line.strip() for line in window)
    if len(joined) > _ATTRIBUTION_MAX_LENGTH:
        return False
    if not (_ATTRIBUTION.search(joined) or _ATTRIBUTION_ADDRESS.search(joined)):
        return False
    if not (_ATTRIBUTION_START.match(joined) or any(char.isdigit() for char in window[0])):
        return False
    return not any(_is_attribution(window[start:]) for start in range(1, len(window)))


def _reply_lines(lines: list[str], marks: str) -> list[str]:
    splitter = marks.find("s")
    if "f" in (marks[:splitter] if splitter >= 0 else marks):
        return lines  # in a forward, the quoted mail is what the sender wants read
    if splitter > 0 and marks[:splitter].strip("e"):
        return lines[:splitter]
    if splitter >= 0:
        return _bottom_posted(lines, marks, start=splitter + 1)
    trailing_quote = re.search(r"q[qe]*$", marks)
    if trailing_quote and marks[: trailing_quote.start()].strip("e"):
        return lines[: trailing_quote.start()]
    leading_quote = re.match(r"^[eq]*q", marks)
    if leading_quote:
        return _bottom_posted(lines, marks, start=0)
    return lines


def _bottom_posted(lines: list[str], marks: str, *, start: int) -> list[str]:
    """The text after a leading quote block, unless the reply is interleaved with it."""
    match = re.match(r"[eq]*q[eq]*(?=t)", marks[start:])
    if match is None:
        return lines
    rest = start + match.end()
    if "q" in marks[rest:]:
        return lines
    return lines[rest:]


def strip_signature(text: str, sender: Address | None = None) -> str:
    """Return the text without its signature, or unchanged when none is found.

    The first non-empty line is never a signature; the signature starts at the first
    of the last SIGNATURE_MAX_LINES non-empty lines that looks like its start and is
    followed only by short lines.
    """
    lines = text.splitlines()
    if any(FORWARD_MARKER.match(line) for line in lines):
        return text  # the end of a forward is the original mail's, not a signature
    filled = [index for index, line in enumerate(lines) if line.strip()]
    candidates = filled[1:][-SIGNATURE_MAX_LINES:]
    names = _sender_names(sender)
    for position, index in enumerate(candidates):
        following = candidates[position + 1 :]
        if _starts_signature(lines[index], names, has_more=bool(following)) and all(
            len(lines[other].strip()) <= SIGNATURE_MAX_LINE_LENGTH for other in following
        ):
            return "\n".join(lines[:index]).rstrip()
    return text


def _starts_signature(line: str, names: frozenset[str], *, has_more: bool) -> bool:
    if _SIGNATURE_DELIMITER.match(line) or _MOBILE_FOOTER.match(line):
        return True
    if _SIGN_OFF.match(line):
        return has_more
    return _is_name_line(line, names)


def _is_name_line(line: str, names: frozenset[str]) -> bool:
    words = line.split()
    if not names or len(words) > _NAME_LINE_MAX_WORDS or len(line) > SIGNATURE_MAX_LINE_LENGTH:
        return False
    if "@" in line or ":" in line:
        return False  # "To: agent@example.org" in a quoted header names the sender too
    tokens = {token.lower() for token in re.findall(r"[^\W\d_]+", line)}
    return bool(tokens & names)


def _sender_names(sender: Address | None) -> frozenset[str]:
    if sender is None:
        return frozenset()
    local = sender.email.partition("@")[0]
    words = re.findall(r"[^\W\d_]+", f"{sender.name} {local}")
    return frozenset(word.lower() for word in words if len(word) >= 3)


def html_to_text(html: str) -> str:
    """Render HTML as plain text; blockquotes become "> " lines so quotes can be stripped."""
    renderer = _TextRenderer()
    # HTMLParser gives up on some broken markup: keep what it had read by then.
    with contextlib.suppress(Exception):
        renderer.feed(html)
        renderer.close()
    return _MULTIPLE_BLANK_LINES.sub("\n\n", renderer.text()).strip()


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
     "hr", "pre", "section", "article", "header", "footer", "dt", "dd", "address"}
)  # fmt: skip
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template"})


class _TextRenderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._depth = 0
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "blockquote":
            self._flush()
            self._depth += 1
        elif tag in _BLOCK_TAGS:
            self._flush(blank=tag in {"p", "hr", "table"})
            self._pre += tag == "pre"
            if tag == "li":
                self._current.append("- ")
        elif tag in {"td", "th"}:
            self._current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "blockquote":
            self._flush()
            self._depth = max(0, self._depth - 1)
        elif tag in _BLOCK_TAGS:
            self._flush(blank=tag == "p")
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            for number, piece in enumerate(data.split("\n")):
                if number:
                    self._flush()
                self._current.append(piece)
            return
        self._current.append(re.sub(r"\s+", " ", data))

    def _flush(self, *, blank: bool = False) -> None:
        joined = "".join(self._current)
        line = joined.rstrip() if self._pre else joined.strip()
        self._current = []
        if line:
            self._lines.append((self._depth, line))
        if blank:
            self._lines.append((self._depth, ""))

    def text(self) -> str:
        self._flush()
        return "\n".join(
            ("> " * depth + line).rstrip() if line else "" for depth, line in self._lines
        )
