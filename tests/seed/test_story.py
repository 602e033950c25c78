"""The seed's in-memory Story must write the same timeline as the real case services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services
from kiwidesk.cases.models import Case, Channel, Event, Priority, Sensitivity, Status
from kiwidesk.contacts.models import Contact
from kiwidesk.seed.story import Ids, Named, Rows, Story
from tests.factories.cases import customer_thread, make_case, make_third_party_thread

START = "2026-03-02 09:00:00+00:00"


def timeline_from_services(agent: Agent, customer: Contact, team: Team) -> list[Any]:
    with time_machine.travel(START, tick=False) as clock:
        case = make_case(None, customer=customer, channel=Channel.EMAIL, team=team)
        clock.shift(60)
        services.update_case(agent, case, {"assignee": agent, "category": "Billing"})
        services.reply(agent, customer_thread(case), text="On it.")
        services.update_case(agent, case, {"status": Status.PENDING_CUSTOMER})
        clock.shift(60)
        services.receive_message(customer_thread(case), text="Here you go.")
        vendor = make_third_party_thread(agent, case, channel=Channel.PHONE)
        services.reply(agent, vendor, text="Called them.")
        services.update_case(agent, case, {"status": Status.PENDING_THIRD_PARTY})
        services.receive_message(vendor, text="Confirmed.")
        services.update_case(agent, case, {"status": Status.SOLVED})
        clock.shift(60)
        services.receive_message(customer_thread(case), text="One more thing.")
        services.add_note(agent, case, text="Customer came back.")
        services.update_case(None, case, {"status": Status.CLOSED})
    events = Event.objects.filter(case=case).order_by("created_at", "id")
    return [(e.kind, e.actor_id, e.payload, e.thread_id is not None) for e in events]


def tell_story(agent: Agent, customer: Contact, team: Team) -> Story:
    rows = Rows()
    story = Story(rows, Ids(1, 1, 1), case_id=1, customer_id=customer.pk)
    who, at = Named(agent.pk, str(agent)), 1_000
    fields = {
        "priority": Priority.NORMAL,
        "category": "",
        "sensitivity": Sensitivity.NORMAL,
        "team": Named(team.pk, team.name),
        "assignee": None,
    }
    thread = story.open(
        None, at=at, subject="Hi", text="Help", channel=Channel.EMAIL, fields=fields
    )
    story.update(who, [("assignee", who), ("category", "Billing")], at=at)
    story.reply(who, thread, text="On it.", at=at)
    story.update(who, [("status", Status.PENDING_CUSTOMER)], at=at)
    story.receive(thread, text="Here you go.", at=at)
    vendor = story.open_thread(
        who, contact_id=customer.pk, channel=Channel.PHONE, subject="", at=at
    )
    story.reply(who, vendor, text="Called them.", at=at)
    story.update(who, [("status", Status.PENDING_THIRD_PARTY)], at=at)
    story.receive(vendor, text="Confirmed.", at=at)
    story.update(who, [("status", Status.SOLVED)], at=at)
    story.receive(thread, text="One more thing.", at=at)
    story.note(who, text="Customer came back.", at=at)
    story.update(None, [("status", Status.CLOSED)], at=at)
    return story


@pytest.mark.django_db
def test_story_writes_the_events_the_services_write(agent, customer, team):
    expected = timeline_from_services(agent, customer, team)

    story = tell_story(agent, customer, team)

    written = [(e[2], e[3], json.loads(e[6]), e[4] is not None) for e in story.rows.events]
    assert written == expected


@pytest.mark.django_db
def test_story_leaves_the_case_state_the_services_leave(agent, customer, team):
    timeline_from_services(agent, customer, team)
    case = Case.objects.get()

    story = tell_story(agent, customer, team)

    assert (story.status, story.solved_at is not None, story.closed_at is not None) == (
        case.status,
        case.solved_at is not None,
        case.closed_at is not None,
    )


def escalation_from_services(
    agent: Agent, teammate: Agent, customer: Contact, team: Team, other_team: Team
) -> list[Any]:
    due = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    with time_machine.travel(START, tick=False):
        case = make_case(agent, customer=customer, channel=Channel.PHONE, team=team, assignee=agent)
        services.add_note(agent, case, text="Steps to reproduce: …")
        services.update_case(
            agent, case, {"team": other_team, "assignee": teammate, "status": Status.ON_HOLD}
        )
        services.reply(teammate, customer_thread(case), text="Fixed.")
        services.update_case(teammate, case, {"due_at": due, "priority": Priority.URGENT})
    events = Event.objects.filter(case=case).order_by("created_at", "id")
    return [(e.kind, e.actor_id, e.payload, e.thread_id is not None) for e in events]


def escalation_from_story(
    agent: Agent, teammate: Agent, customer: Contact, team: Team, other_team: Team
) -> list[Any]:
    rows = Rows()
    story = Story(rows, Ids(1, 1, 1), case_id=1, customer_id=customer.pk)
    who, mate, at = Named(agent.pk, str(agent)), Named(teammate.pk, str(teammate)), 1_000
    fields = {
        "priority": Priority.NORMAL,
        "category": "",
        "sensitivity": Sensitivity.NORMAL,
        "team": Named(team.pk, team.name),
        "assignee": who,
    }
    thread = story.open(who, at=at, subject="Hi", text="Help", channel=Channel.PHONE, fields=fields)
    story.note(who, text="Steps to reproduce: …", at=at)
    changes = [
        ("team", Named(other_team.pk, other_team.name)),
        ("assignee", mate),
        ("status", Status.ON_HOLD),
    ]
    story.update(who, changes, at=at)
    story.reply(mate, thread, text="Fixed.", at=at)
    due = int(datetime(2026, 3, 9, 18, 0, tzinfo=UTC).timestamp())
    story.update(mate, [("due_at", due), ("priority", Priority.URGENT)], at=at)
    return [(e[2], e[3], json.loads(e[6]), e[4] is not None) for e in rows.events]


@pytest.mark.django_db
def test_story_escalates_a_logged_call_as_the_services_do(
    agent, teammate, customer, team, other_team
):
    expected = escalation_from_services(agent, teammate, customer, team, other_team)

    written = escalation_from_story(agent, teammate, customer, team, other_team)

    assert written == expected
