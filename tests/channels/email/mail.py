"""Load the mail fixtures of these tests and the shared mail corpora."""

from __future__ import annotations

from pathlib import Path

from kiwidesk.channels.email.adapter import parse
from kiwidesk.ingest.contract import InboundMessage

FIXTURES = Path(__file__).parent / "fixtures"
# The corpora live in shared/ beside the repository (../shared/datasets).
DATASETS = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
TALON = DATASETS / "talon_fixtures" / "fixtures"
SOURCE = "file:///var/mail/support"

CORPORA = (
    "flanker_fixtures/fixtures/messages/**/*",
    "ruby_mail_fixtures/emails/**/*",
    "mail_mime_parser_zbateson/_data/emails/*",
    "php_mime_mail_parser/mails/*",
    "nodemailer_mailparser/fixtures/*.eml",
    "mail_parser_spamscope/mails/*",
    "talon_fixtures/fixtures/**/*.eml",
)


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(name: str) -> InboundMessage:
    return parse(raw(name), SOURCE)


def corpus_files() -> list[Path]:
    return [
        path for pattern in CORPORA for path in sorted(DATASETS.glob(pattern)) if path.is_file()
    ]
