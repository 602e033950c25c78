from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.db.models import Max

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Case, Event, EventKind, Message, Party, Status, Tag, Thread
from kiwidesk.contacts.models import Contact, Organisation, OrganisationKind
from kiwidesk.seed.demo import ensure_demo_login
from kiwidesk.seed.errors import DatabaseNotEmptyError, SeedError
from kiwidesk.seed.load import seed_database

NOW = int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp())
MESSAGE_EVENTS = {
    "inbound": EventKind.MESSAGE_RECEIVED,
    "outbound": EventKind.MESSAGE_SENT,
    "note": EventKind.NOTE_ADDED,
}


def seed(cases: int = 30, messages: int = 150, seed: int = 7) -> None:
    seed_database(cases=cases, messages=messages, seed=seed, now=NOW)


def snapshot() -> list[tuple[Any, ...]]:
    cases = Case.objects.order_by("id").values_list(
        "subject", "status", "priority", "customer__name", "assignee__email", "updated_at"
    )
    bodies = Message.objects.order_by("id").values_list("body_text", "created_at")
    return [*cases, *bodies]


def status_events_chain_to_status(case: Case) -> bool:
    """Each status change starts where the last one ended, and the last ends at the status.

    The first starts at "new" or "open": open_case with an assignee starts at "open".
    """
    changes = case.events.filter(kind=EventKind.STATUS_CHANGED).order_by("created_at", "id")
    reached = None
    for payload in changes.values_list("payload", flat=True):
        if reached is None and payload["old"] not in (Status.NEW, Status.OPEN):
            return False
        if reached is not None and payload["old"] != reached:
            return False
        reached = payload["new"]
    return (reached or case.status) == case.status and case.status in (
        reached,
        Status.NEW,
        Status.OPEN,
    )


def wipe() -> None:
    Case.objects.all().delete()
    Contact.objects.all().delete()
    Organisation.objects.all().delete()
    Agent.objects.all().delete()
    Team.objects.all().delete()
    Tag.objects.all().delete()


@pytest.mark.django_db
def test_seed_writes_exactly_the_cases_and_messages_asked_for():
    seed(cases=30, messages=150)

    assert (Case.objects.count(), Message.objects.count()) == (30, 150)


@pytest.mark.django_db
def test_a_small_seed_shows_every_status():
    seed()

    assert set(Case.objects.values_list("status", flat=True)) == set(Status.values)


@pytest.mark.django_db
def test_every_case_opens_with_exactly_one_case_opened_event():
    seed()

    first_kinds = [
        case.events.order_by("created_at", "id").values_list("kind", flat=True)[0]
        for case in Case.objects.all()
    ]
    opened = Counter(
        Event.objects.filter(kind=EventKind.CASE_OPENED).values_list("case", flat=True)
    )
    assert set(first_kinds) == {EventKind.CASE_OPENED}
    assert set(opened.values()) == {1}
    assert len(opened) == 30


@pytest.mark.django_db
def test_every_message_has_exactly_one_matching_event():
    seed()

    events = {
        e.message_id: e
        for e in Event.objects.filter(message__isnull=False).select_related("message")
    }
    mismatched = [
        m.pk
        for m in Message.objects.all()
        if events[m.pk].kind != MESSAGE_EVENTS[m.direction]
        or events[m.pk].created_at != m.created_at
        or events[m.pk].thread_id != m.thread_id
    ]
    assert Event.objects.filter(message__isnull=False).count() == 150
    assert mismatched == []


@pytest.mark.django_db
def test_concierge_cases_talk_to_third_parties():
    seed()

    vendor_threads = Thread.objects.filter(party=Party.THIRD_PARTY)
    opened = Event.objects.filter(kind=EventKind.THREAD_OPENED)
    assert vendor_threads.count() > 0
    assert set(opened.values_list("thread", flat=True)) == set(
        vendor_threads.values_list("pk", flat=True)
    )
    assert set(vendor_threads.values_list("contact__organisation__kind", flat=True)) == {
        OrganisationKind.THIRD_PARTY
    }


@pytest.mark.django_db
def test_each_case_timeline_runs_forward_in_time():
    seed()

    backwards = []
    for case in Case.objects.all():
        stamps = list(case.events.order_by("id").values_list("created_at", flat=True))
        backwards += [case.pk for a, b in itertools.pairwise(stamps) if b < a]
    assert backwards == []


@pytest.mark.django_db
def test_updated_at_is_the_last_event_of_the_case():
    seed()

    last = dict(
        Event.objects.values("case").annotate(last=Max("created_at")).values_list("case", "last")
    )
    stale = [c.pk for c in Case.objects.all() if c.updated_at != last[c.pk]]
    assert stale == []


@pytest.mark.django_db
def test_thread_last_message_at_is_its_newest_message():
    seed()

    newest = dict(
        Message.objects.values("thread")
        .annotate(last=Max("created_at"))
        .values_list("thread", "last")
    )
    stale = [t.pk for t in Thread.objects.all() if t.last_message_at != newest[t.pk]]
    assert stale == []


@pytest.mark.django_db
def test_solved_and_closed_times_follow_the_status():
    seed()

    shapes = {
        (c.status, c.solved_at is not None, c.closed_at is not None) for c in Case.objects.all()
    }
    done = {(Status.SOLVED, True, False), (Status.CLOSED, True, True)}
    in_flight = {
        (s, False, False) for s in Status.values if s not in (Status.SOLVED, Status.CLOSED)
    }
    assert shapes == done | in_flight


@pytest.mark.django_db
def test_status_events_chain_up_to_the_current_status():
    seed()

    broken = [c.pk for c in Case.objects.all() if not status_events_chain_to_status(c)]
    assert broken == []


@pytest.mark.django_db
def test_nothing_happens_after_the_seed_instant():
    seed()

    latest = Event.objects.aggregate(latest=Max("created_at"))["latest"]
    assert latest <= datetime.fromtimestamp(NOW, UTC)


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data():
    seed(seed=11)
    first = snapshot()
    wipe()

    seed(seed=11)

    assert snapshot() == first


@pytest.mark.django_db
def test_another_seed_gives_other_data():
    seed(seed=11)
    first = snapshot()
    wipe()

    seed(seed=12)

    assert snapshot() != first


@pytest.mark.django_db
def test_seeding_twice_is_refused():
    seed()

    with pytest.raises(DatabaseNotEmptyError):
        seed()

    assert Case.objects.count() == 30


@pytest.mark.django_db
def test_too_few_messages_for_the_cases_is_refused():
    with pytest.raises(SeedError, match="too few"):
        seed(cases=30, messages=29)

    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_demo_login_can_sign_in_after_seeding(tmp_path: Path):
    seed()

    login = ensure_demo_login(tmp_path)

    agent = authenticate(username=login.email, password=login.password)
    assert agent is not None
    assert agent.assigned_cases.count() > 0


@pytest.mark.django_db
def test_demo_password_is_kept_between_starts(tmp_path: Path):
    first = ensure_demo_login(tmp_path)

    second = ensure_demo_login(tmp_path)

    assert second == first
    assert (tmp_path / "demo-password").read_text() == first.password + "\n"
