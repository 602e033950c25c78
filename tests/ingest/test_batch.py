from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import transaction

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Message
from kiwidesk.ingest import batch, planner
from kiwidesk.ingest.batch import Outcome, ingest_many
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.models import Receipt
from kiwidesk.ingest.services import IngestResult, ingest
from tests.ingest import inbound
from tests.ingest.batch_corpus import corpus, given_a_history, normalised_rows, one_by_one

Ingest = Callable[[list[InboundMessage], Team | None], list[Outcome]]


def _in_batches(messages: list[InboundMessage], team: Team | None) -> list[Outcome]:
    return ingest_many(messages, team=team)


def _rows_after(agent: Agent, team: Team, ingest_all: Ingest, seed: int) -> dict[str, list[Any]]:
    """Ingest the corpus on a given history; return the rows, then undo it all."""
    savepoint = transaction.savepoint()
    story = given_a_history(agent)
    outcomes = ingest_all(corpus(story, seed=seed), team)
    rows = normalised_rows(outcomes)
    transaction.savepoint_rollback(savepoint)
    return rows


def _results(outcomes: list[Outcome]) -> list[IngestResult]:
    return [outcome for outcome in outcomes if isinstance(outcome, IngestResult)]


@pytest.mark.parametrize(("size", "seed"), [(7, 7), (500, 7), (3, 11), (40, 23)])
def test_batches_store_the_same_rows_as_one_by_one_ingest(
    db: None, agent: Agent, team: Team, monkeypatch: pytest.MonkeyPatch, size: int, seed: int
) -> None:
    monkeypatch.setattr(batch, "BATCH_SIZE", size)
    expected = _rows_after(agent, team, one_by_one, seed)

    actual = _rows_after(agent, team, _in_batches, seed)

    assert actual == expected
    assert len(expected["outcomes"]) == 148


def test_a_reply_in_the_same_batch_lands_on_the_thread_it_answers(db: None) -> None:
    first = inbound.email("new@example.org", external_id="first@x")
    reply = inbound.email("new@example.org", external_id="reply@x", in_reply_to="first@x")

    opened, answered = _results(ingest_many([first, reply]))

    assert answered.thread == opened.thread
    assert (answered.created_case, Case.objects.count(), Message.objects.count()) == (False, 1, 2)


def test_a_subject_token_of_a_case_opened_in_the_same_batch_routes_to_it(db: None) -> None:
    before = ingest(inbound.email("earlier@example.org", external_id="earlier@x")).case.pk
    opening = inbound.email("new@example.org", external_id="first@x")
    naming = inbound.email("new@example.org", external_id="second@x", subject=f"[#{before + 1}]")

    opened, named = _results(ingest_many([opening, naming]))

    assert (opened.case.pk, named.case, named.created_case) == (before + 1, opened.case, False)


def test_messages_arriving_at_one_instant_keep_their_order(db: None) -> None:
    mail = [inbound.email(f"s{n}@example.org", external_id=f"m{n}@x") for n in range(3)]

    with time_machine.travel("2026-11-23 08:00:00+00:00", tick=False):
        results = _results(ingest_many(mail))

    times = [result.message.created_at for result in results]
    assert times == sorted(times)
    assert len(set(times)) == 3


def test_a_claim_made_meanwhile_sends_the_batch_through_ingest_one_by_one(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = planner.Segment._stored_messages

    def claimed_meanwhile(segment: planner.Segment) -> dict[tuple[str, str], Message]:
        found = read(segment)
        Receipt.objects.create(source=inbound.MAILBOX, external_id="taken@x", sender="x@y.org")
        return found

    monkeypatch.setattr(planner.Segment, "_stored_messages", claimed_meanwhile)
    mail = [inbound.email(external_id="free@x"), inbound.email(external_id="taken@x")]

    outcomes = _results(ingest_many(mail))

    assert [o.duplicate for o in outcomes] == [False, False]
    assert Receipt.objects.filter(message__isnull=False).count() == 2


def test_a_case_merged_meanwhile_sends_the_batch_through_ingest_one_by_one(
    db: None, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(inbound.email("c@example.org", external_id="first@x"))
    other = ingest(inbound.email("d@example.org", external_id="other@x"))
    read = planner.Segment._read_routes

    def merged_meanwhile(segment: planner.Segment) -> tuple[dict[str, int], dict[str, int]]:
        found = read(segment)
        cases.merge_cases(agent, source=first.case, target=other.case)
        return found

    monkeypatch.setattr(planner.Segment, "_read_routes", merged_meanwhile)

    (reply,) = _results(ingest_many([inbound.email("c@example.org", external_id="r@x",
                                                   in_reply_to="first@x")]))  # fmt: skip

    assert (reply.thread, reply.case.is_merged) == (first.thread, False)


def test_nothing_to_ingest_stores_nothing(db: None) -> None:
    assert (ingest_many([]), Message.objects.count()) == ([], 0)


def test_a_batch_never_reuses_the_id_of_a_deleted_case(db: None) -> None:
    deleted = ingest(inbound.email("gone@example.org", external_id="gone@x")).case
    deleted_id = deleted.pk
    deleted.delete()

    (result,) = _results(ingest_many([inbound.email("new@example.org", external_id="new@x")]))

    assert result.case.pk == deleted_id + 1
