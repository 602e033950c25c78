from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import TestCase

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Case, Message, Priority
from kiwidesk.channels.email import importer
from kiwidesk.channels.email.importer import import_mailbox
from kiwidesk.channels.email.mailboxes import open_mailbox
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.models import QuarantinedMessage
from kiwidesk.ingest.services import UnroutableMessageError
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from tests.channels.email.mail import SOURCE, raw
from tests.channels.email.mailbox_files import make_maildir, make_mbox


def _counts(summary: object) -> tuple[int, ...]:
    return tuple(
        getattr(summary, field)
        for field in ("read", "stored", "duplicates", "new_cases", "quarantined")
    )


def test_maildir_import_stores_each_message_and_quarantines_the_unparseable(
    db: None, tmp_path: Path
) -> None:
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))

    summary = import_mailbox(box, source=SOURCE)

    assert _counts(summary) == (4, 3, 0, 3, 1)
    assert Message.objects.count() == 3
    assert [bytes(item.raw) for item in QuarantinedMessage.objects.all()] == [raw("no_sender.eml")]


def test_second_import_of_the_same_maildir_stores_nothing_new(db: None, tmp_path: Path) -> None:
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))
    import_mailbox(box, source=SOURCE)

    summary = import_mailbox(box, source=SOURCE)

    assert _counts(summary) == (4, 0, 3, 0, 1)
    assert (Message.objects.count(), QuarantinedMessage.objects.count()) == (3, 1)


def test_mbox_import_stores_each_message(db: None, tmp_path: Path) -> None:
    box = open_mailbox(make_mbox(tmp_path / "support.mbox"))

    summary = import_mailbox(box, source=SOURCE)

    assert _counts(summary) == (4, 3, 0, 3, 1)


def test_new_cases_go_to_the_given_team(db: None, tmp_path: Path, team: Team) -> None:
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))

    import_mailbox(box, source=SOURCE, team=team)

    assert list(Case.objects.values_list("team__slug", flat=True)) == ["clinician-support"] * 3


def test_progress_is_reported_after_each_batch(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 3)
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))
    steps: list[int] = []

    import_mailbox(box, source=SOURCE, progress=steps.append)

    assert steps == [3, 1]


def test_parse_workers_import_the_same_as_parsing_in_process(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 1)
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))

    summary = import_mailbox(box, source=SOURCE, workers=2)

    assert _counts(summary) == (4, 3, 0, 3, 1)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == sorted(
        _external_ids_parsed_in_process(tmp_path)
    )


def test_stored_message_keeps_stripped_text_and_full_text(db: None, tmp_path: Path) -> None:
    path = tmp_path / "reply.eml"
    path.write_bytes(raw("reply_with_token.eml"))

    import_mailbox(open_mailbox(path), source=SOURCE)

    message = Message.objects.get()
    assert message.body_text == "Yes, please move it to Thursday."
    assert message.full_text.endswith("> Your booking was cancelled. Shall we move it?")
    assert message.external_id == "reply-1@mail.example.org"


def test_mail_ingest_refuses_is_quarantined_with_its_bytes(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(messages: list[object], **options: object) -> list[UnroutableMessageError]:
        return [UnroutableMessageError("no route") for _ in messages]

    monkeypatch.setattr(importer, "ingest_many", refuse)
    path = tmp_path / "reply.eml"
    path.write_bytes(raw("reply_with_token.eml"))

    summary = import_mailbox(open_mailbox(path), source=SOURCE)

    item = QuarantinedMessage.objects.get()
    assert summary.quarantined == 1
    assert (item.reason, item.external_id) == ("unroutable: no route", "reply-1@mail.example.org")
    assert bytes(item.raw) == raw("reply_with_token.eml")


def _external_ids_parsed_in_process(tmp_path: Path) -> list[str]:
    box = open_mailbox(tmp_path / "Maildir")
    parsed = [importer.parse_or_refuse(mail.raw, SOURCE) for mail in box]
    return [p.external_id for p in parsed if isinstance(p, InboundMessage)]


def test_one_mail_that_ingest_refuses_is_quarantined_with_its_bytes(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(message: object, **options: object) -> None:
        raise UnroutableMessageError("no route")

    monkeypatch.setattr(importer, "ingest", refuse)

    result = importer.import_message(
        raw("reply_with_token.eml"), source=SOURCE, team=None, enforce_rate_limit=True
    )

    item = QuarantinedMessage.objects.get()
    assert (result, item.reason, bytes(item.raw)) == (
        None, "unroutable: no route", raw("reply_with_token.eml"),
    )  # fmt: skip


def test_imported_cases_get_the_clocks_their_policy_sets(
    db: None, tmp_path: Path, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    policy = Policy.objects.create(name="Standard", position=1)
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.NORMAL, minutes=60
    )
    box = open_mailbox(make_maildir(tmp_path / "Maildir"))

    with TestCase.captureOnCommitCallbacks(execute=True):
        import_mailbox(box, source=SOURCE)

    first_replies = Clock.objects.filter(metric=Metric.FIRST_REPLY, state="active")
    assert first_replies.count() == Case.objects.count() == 3
