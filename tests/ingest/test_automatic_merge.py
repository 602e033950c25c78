"""A team may have a customer's new case merged into their open one at once, not suggested."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Case, EventKind, Status
from kiwidesk.cases.services import merge_as_team_prefers, update_case
from kiwidesk.ingest.batch import ingest_many
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.services import ingest

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


def mail(number: int, subject: str) -> InboundMessage:
    return InboundMessage(
        channel="email",
        source="support@kiwidesk.test",
        external_id=f"mail-{number}@example.test",
        sender=Sender("email", "customer@example.test", "Customer"),
        subject=subject,
        text=f"Mail number {number}.",
    )


def merging(team: Team) -> Team:
    team.merges_new_cases = True
    team.save()
    return team


def test_a_new_mail_from_a_customer_with_an_open_case_is_merged_into_it(team: Team) -> None:
    first = ingest(mail(1, "Table for six on Monday"), team=merging(team))

    with TestCase.captureOnCommitCallbacks(execute=True):
        second = ingest(mail(2, "Also: a cake"), team=team)

    second.case.refresh_from_db()
    assert second.case.merged_into_id == first.case.pk
    assert first.case.messages.count() == 2


def test_without_the_teams_choice_the_new_case_is_only_suggested(team: Team) -> None:
    first = ingest(mail(1, "Table for six on Monday"), team=team)

    with TestCase.captureOnCommitCallbacks(execute=True):
        second = ingest(mail(2, "Also: a cake"), team=team)

    second.case.refresh_from_db()
    assert second.case.merged_into_id is None
    assert second.case.events.filter(kind=EventKind.MERGE_SUGGESTED).count() == 1
    assert first.case.messages.count() == 1


def test_an_imported_batch_merges_the_same_way(team: Team) -> None:
    merging(team)

    with TestCase.captureOnCommitCallbacks(execute=True):
        first, second = ingest_many([mail(1, "Table for six"), mail(2, "Also: a cake")], team=team)

    assert Case.objects.get(pk=second.case.pk).merged_into_id == first.case.pk


def test_a_case_closed_before_the_merge_runs_takes_nothing_in(agent: Any, team: Team) -> None:
    first = ingest(mail(1, "Table for six on Monday"), team=merging(team))
    second = ingest(mail(2, "Also: a cake"), team=team)
    update_case(agent, first.case, {"status": Status.CLOSED})

    merged = merge_as_team_prefers(second.case.pk, first.case.pk)

    assert merged is None
    assert Case.objects.get(pk=second.case.pk).merged_into_id is None
