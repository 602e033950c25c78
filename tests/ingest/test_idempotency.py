from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError

from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Event, Message
from kiwidesk.contacts.models import Contact
from kiwidesk.ingest import routing, services
from kiwidesk.ingest.models import Receipt
from kiwidesk.ingest.services import UnroutableMessageError, ingest
from tests.ingest import inbound


def test_redelivered_mail_is_stored_once(db: None) -> None:
    first = ingest(inbound.email())

    second = ingest(inbound.email())

    assert second.duplicate is True
    assert second.message == first.message
    assert second.case == first.case
    assert second.thread == first.thread
    assert Message.objects.count() == 1
    assert Case.objects.count() == 1


def test_first_delivery_is_not_a_duplicate(db: None) -> None:
    result = ingest(inbound.email())

    assert result.duplicate is False
    assert result.created_case is True
    assert Receipt.objects.get().message == result.message


def test_same_message_id_in_two_mailboxes_is_two_messages(db: None) -> None:
    ingest(inbound.email(source="imap://support@kiwidesk.test/INBOX"))

    second = ingest(inbound.email(source="imap://billing@kiwidesk.test/INBOX"))

    assert second.duplicate is False
    assert Message.objects.count() == 2


def test_crash_before_commit_leaves_nothing_and_the_retry_stores_once(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(inbound.email(external_id="<first@mail.example.org>"))
    real_receive = cases.receive_message
    crashes: list[bool] = []

    def crash_once(*args: Any, **kwargs: Any) -> Message:
        if not crashes:
            crashes.append(True)
            raise RuntimeError("worker killed")
        return real_receive(*args, **kwargs)

    monkeypatch.setattr(cases, "receive_message", crash_once)
    reply = inbound.email(
        external_id="<reply@mail.example.org>", in_reply_to="<first@mail.example.org>"
    )
    with pytest.raises(RuntimeError, match="worker killed"):
        ingest(reply)
    after_crash = (Message.objects.count(), Receipt.objects.count(), Event.objects.count())

    retried = ingest(reply)

    assert after_crash == (1, 1, 2)
    assert retried.duplicate is False
    assert Message.objects.filter(external_id="<reply@mail.example.org>").count() == 1
    assert Receipt.objects.count() == 2


def test_concurrent_delivery_that_loses_the_claim_returns_the_winners_message(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = ingest(inbound.email())
    real_stored = services._stored
    calls: list[str] = []

    def not_yet_committed(source: str, key: str) -> Message | None:
        calls.append(key)
        return None if len(calls) == 1 else real_stored(source, key)

    monkeypatch.setattr(services, "_stored", not_yet_committed)

    loser = ingest(inbound.email())

    assert loser.duplicate is True
    assert loser.message == winner.message
    assert Message.objects.count() == 1
    assert len(calls) == 2


def test_mail_without_message_id_is_recognised_by_its_raw_bytes(db: None) -> None:
    raw = b"From: customer@example.org\r\nSubject: no id\r\n\r\nHello\r\n"
    ingest(inbound.email(external_id="", raw=raw))

    second = ingest(inbound.email(external_id="", raw=raw))

    assert second.duplicate is True
    assert Message.objects.count() == 1


def test_unusable_sender_is_refused_and_nothing_is_stored(db: None) -> None:
    with pytest.raises(UnroutableMessageError, match=r"^unroutable: unusable sender"):
        ingest(inbound.email(sender="not an address"))

    assert (Message.objects.count(), Contact.objects.count(), Receipt.objects.count()) == (0, 0, 0)


def test_unknown_channel_is_refused(db: None) -> None:
    message = inbound.email()
    message = type(message)(**{**message.__dict__, "channel": "pigeon"})

    with pytest.raises(UnroutableMessageError, match="unknown channel 'pigeon'"):
        ingest(message)

    assert Message.objects.count() == 0


def test_an_integrity_error_that_is_not_a_duplicate_is_raised(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_store(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(services, "_store", broken_store)

    with pytest.raises(IntegrityError, match="some other constraint"):
        ingest(inbound.email())


def test_message_with_neither_id_nor_raw_bytes_is_never_taken_for_a_duplicate(db: None) -> None:
    ingest(inbound.email(external_id=""))

    second = ingest(inbound.email(external_id=""))

    assert second.duplicate is False
    assert Message.objects.count() == 2


def test_message_for_a_case_merged_after_routing_lands_on_the_merge_target(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(inbound.email(external_id="<first@mail.example.org>"))
    target = ingest(inbound.email(external_id="<other@mail.example.org>", subject="Other"))
    stale_thread = first.thread
    cases.merge_cases(None, source=first.case, target=target.case)
    monkeypatch.setattr(routing, "route", lambda message, sender: stale_thread)

    result = ingest(inbound.email(external_id="<late@mail.example.org>"))

    assert result.case == target.case
    assert result.message.case_id == target.case.pk
