"""Opening, listing, reading, changing and merging cases through the API."""

from __future__ import annotations

from typing import Any

import pytest

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services
from kiwidesk.cases.models import Case, Event, EventKind, Message
from kiwidesk.contacts.models import Identity
from tests.api.conftest import ApiClient
from tests.factories.cases import make_case


def test_a_case_opened_with_the_minimal_body_reads_back_the_same(api: ApiClient) -> None:
    body = {
        "subject": "The care-pathway screen froze",
        "customer": {"email": "Clinician@Example.org"},
        "message": "It froze during my session.",
    }

    created = api.post("/cases", body)
    read = api.get(f"/cases/{created.json()['id']}")

    assert created.status_code == 201
    assert read.status_code == 200
    assert read.json() == created.json()
    assert {key: read.json()[key] for key in ("subject", "status", "priority", "channel")} == {
        "subject": "The care-pathway screen froze",
        "status": "new",
        "priority": "normal",
        "channel": "api",
    }
    assert read.json()["customer"]["name"] == "clinician@example.org"
    assert Identity.objects.get().value == "clinician@example.org"


def test_opening_a_case_for_a_known_address_reuses_the_contact(api: ApiClient) -> None:
    first = api.post(
        "/cases", {"subject": "One", "customer": {"phone": "+64 21 555 0100"}, "message": "A"}
    )

    second = api.post(
        "/cases", {"subject": "Two", "customer": {"phone": "+64215550100"}, "message": "B"}
    )

    assert second.json()["customer"]["id"] == first.json()["customer"]["id"]


def test_a_case_opened_with_every_field_carries_them(
    api: ApiClient, agent: Agent, team: Team
) -> None:
    body = {
        "subject": "Table for four in Antigua",
        "customer": {"whatsapp": "+1 268 555 0142", "name": "A VIP"},
        "message": "In Antigua on Monday, need a table for me and my friends.",
        "channel": "whatsapp",
        "priority": "high",
        "team": team.pk,
        "assignee": agent.pk,
        "tags": ["Dining", "antigua"],
        "category": "reservations",
    }

    response = api.post("/cases", body)

    case = response.json()
    assert response.status_code == 201
    assert (case["channel"], case["priority"], case["category"], case["status"]) == (
        "whatsapp",
        "high",
        "reservations",
        "open",
    )
    assert case["team"] == {"id": team.pk, "name": "Clinician support"}
    assert case["assignee"] == {"id": agent.pk, "name": "Agent One"}
    assert sorted(case["tags"]) == ["antigua", "dining"]
    assert case["customer"]["name"] == "A VIP"


@pytest.fixture
def inbox(clinical_agent: Agent, team: Team) -> dict[str, Case]:
    """Five cases that each filter tells apart, listed by an agent cleared for all of them."""
    cases = {
        "mine": make_case(subject="Mine", assignee=clinical_agent, team=team, priority="urgent"),
        "unassigned": make_case(subject="Unassigned", channel="whatsapp", tags=["billing"]),
        "pending": make_case(subject="Pending passport", priority="low"),
        "solved": make_case(subject="Solved"),
        "clinical": make_case(subject="Clinical", sensitivity="clinical"),
    }
    services.update_case(None, cases["pending"], {"status": "pending_customer"})
    services.update_case(None, cases["solved"], {"status": "solved"})
    return cases


@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ({}, {"Mine", "Unassigned", "Pending passport", "Clinical"}),
        ({"view": "mine"}, {"Mine"}),
        ({"view": "unassigned"}, {"Unassigned", "Pending passport", "Clinical"}),
        ({"view": "teams"}, {"Mine"}),
        ({"view": "pending"}, {"Pending passport"}),
        ({"view": "solved"}, {"Solved"}),
        ({"view": "all"}, {"Mine", "Unassigned", "Pending passport", "Solved", "Clinical"}),
        ({"view": "all", "status": "solved"}, {"Solved"}),
        ({"priority": "urgent"}, {"Mine"}),
        ({"team": "{team}"}, {"Mine"}),
        ({"assignee": "{agent}"}, {"Mine"}),
        ({"assignee": "none"}, {"Unassigned", "Pending passport", "Clinical"}),
        ({"tag": "Billing"}, {"Unassigned"}),
        ({"channel": "whatsapp"}, {"Unassigned"}),
        ({"sensitivity": "clinical"}, {"Clinical"}),
        ({"q": "passport"}, {"Pending passport"}),
    ],
)
def test_the_case_list_applies_each_inbox_filter(
    clinical_api: ApiClient,
    inbox: dict[str, Case],
    clinical_agent: Agent,
    team: Team,
    query: dict[str, str],
    subjects: set[str],
) -> None:
    params = {
        key: value.format(agent=clinical_agent.pk, team=team.pk) for key, value in query.items()
    }

    response = clinical_api.get("/cases", **params)

    assert response.status_code == 200
    assert {item["subject"] for item in response.json()["items"]} == subjects


def test_the_case_list_sorts_by_priority(clinical_api: ApiClient, inbox: dict[str, Case]) -> None:
    response = clinical_api.get("/cases", sort="priority")

    assert [item["subject"] for item in response.json()["items"]] == [
        "Mine",
        "Clinical",
        "Unassigned",
        "Pending passport",
    ]


def test_the_case_list_pages_with_a_link_to_the_next_page(api: ApiClient) -> None:
    for number in range(5):
        make_case(subject=f"Case {number}")

    first = api.get("/cases", limit=2, priority="normal")
    last = api.get("/cases", limit=2, offset=4, priority="normal")

    assert [item["subject"] for item in first.json()["items"]] == ["Case 4", "Case 3"]
    assert first.json()["next_offset"] == 2
    assert first.json()["next"] == (
        "http://testserver/api/v1/cases?limit=2&priority=normal&offset=2"
    )
    assert [item["subject"] for item in last.json()["items"]] == ["Case 0"]
    assert (last.json()["next_offset"], last.json()["next"]) == (None, None)


def _many_cases(count: int, agent: Agent, team: Team) -> None:
    for number in range(count):
        make_case(subject=f"Case {number}", assignee=agent, team=team, tags=["a", f"t{number}"])


@pytest.mark.parametrize("rows", [3, 120])
@pytest.mark.parametrize("view", ["open", "teams", "mine"])
def test_the_case_list_costs_the_same_queries_however_many_cases(
    api: ApiClient,
    agent: Agent,
    team: Team,
    django_assert_max_num_queries: Any,
    rows: int,
    view: str,
) -> None:
    _many_cases(rows, agent, team)
    api.get("/cases")  # the first call of a token records when it was used

    # Token, team ids, one index run per open status, the rows by id, their tags.
    with django_assert_max_num_queries(10):
        response = api.get("/cases", view=view, limit=200)

    assert len(response.json()["items"]) == rows


def test_patch_changes_only_the_fields_sent_and_records_each_change(
    api: ApiClient, case: Case, agent: Agent
) -> None:
    before = api.get(f"/cases/{case.pk}").json()
    last_event = Event.objects.latest("id").pk

    response = api.patch(f"/cases/{case.pk}", {"priority": "urgent", "assignee": agent.pk})

    after = response.json()
    assert response.status_code == 200
    assert (after["priority"], after["assignee"]) == (
        "urgent",
        {"id": agent.pk, "name": "Agent One"},
    )
    unchanged = ("subject", "status", "category", "sensitivity", "team", "tags", "due_at")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert list(
        Event.objects.filter(pk__gt=last_event).order_by("id").values_list("kind", flat=True)
    ) == [EventKind.PRIORITY_CHANGED, EventKind.ASSIGNED]


def test_patch_with_null_clears_the_assignee(api: ApiClient, agent: Agent) -> None:
    case = make_case(subject="Assigned", assignee=agent)

    response = api.patch(f"/cases/{case.pk}", {"assignee": None})

    assert response.json()["assignee"] is None
    assert Case.objects.get(pk=case.pk).assignee_id is None


def test_patch_sets_due_date_status_and_tags(api: ApiClient, case: Case) -> None:
    body = {"due_at": "2026-12-01T09:00:00+13:00", "status": "on_hold", "tags": ["VIP", "vip"]}

    response = api.patch(f"/cases/{case.pk}", body)

    assert (response.json()["due_at"], response.json()["status"], response.json()["tags"]) == (
        "2026-11-30T20:00:00Z",
        "on_hold",
        ["vip"],
    )


def test_an_empty_patch_changes_nothing(api: ApiClient, case: Case) -> None:
    before = Case.objects.filter(pk=case.pk).values().get()
    events_before = Event.objects.count()

    response = api.patch(f"/cases/{case.pk}", {})

    assert response.status_code == 200
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert Event.objects.count() == events_before


def test_merge_moves_the_messages_and_answers_with_the_target(
    api: ApiClient, case: Case, agent: Agent
) -> None:
    duplicate = make_case(agent, subject="Screen froze again", message_text="Still frozen.")

    response = api.post(f"/cases/{duplicate.pk}/merge", {"into": case.pk})

    assert response.status_code == 200
    assert response.json()["id"] == case.pk
    assert Message.objects.filter(case=case).count() == 2
    assert api.get(f"/cases/{duplicate.pk}").json()["merged_into"] == case.pk
    assert api.get(f"/cases/{duplicate.pk}").json()["status"] == "closed"


def test_a_merged_case_refuses_changes_and_names_its_target(api: ApiClient, case: Case) -> None:
    duplicate = make_case(subject="Duplicate")
    services.merge_cases(None, source=duplicate, target=case)

    response = api.patch(f"/cases/{duplicate.pk}", {"priority": "high"})

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"The case {duplicate.pk} was merged into case {case.pk}; act on that case instead."
    )
    assert Case.objects.get(pk=duplicate.pk).priority == "normal"


def test_an_agent_cannot_mark_a_case_more_sensitive_than_their_clearance(
    api: ApiClient, case: Case
) -> None:
    response = api.patch(f"/cases/{case.pk}", {"sensitivity": "clinical", "priority": "high"})

    assert response.status_code == 403
    assert response.json() == {"detail": "Your clearance does not allow a clinical case."}
    assert (Case.objects.get(pk=case.pk).sensitivity, Case.objects.get(pk=case.pk).priority) == (
        "normal",
        "normal",
    )


def test_a_cleared_agent_marks_a_case_clinical(clinical_api: ApiClient, case: Case) -> None:
    response = clinical_api.patch(f"/cases/{case.pk}", {"sensitivity": "clinical"})

    assert response.status_code == 200
    assert response.json()["sensitivity"] == "clinical"


def test_a_thread_on_a_merged_case_is_refused_and_creates_no_party(
    api: ApiClient, case: Case
) -> None:
    duplicate = make_case(subject="Duplicate")
    services.merge_cases(None, source=duplicate, target=case)
    body = {"contact": {"name": "Harbour View Restaurant", "email": "desk@harbour.example"}}

    response = api.post(f"/cases/{duplicate.pk}/threads", body)

    assert response.status_code == 409
    assert Identity.objects.filter(value="desk@harbour.example").count() == 0
