"""GET /api/v1/cases/{id}/clocks: every clock a case owes, most urgent first, behind the gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Channel, Priority
from kiwidesk.privacy.models import AuditRecord
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Policy, Target
from kiwidesk.sla.services import recompute_case
from tests.api.conftest import ApiClient
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory, OrganisationFactory

OPENED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def minute(n: float) -> str:
    return (OPENED_AT + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")


def at(n: float) -> datetime:
    return OPENED_AT + timedelta(minutes=n)


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(name="Standard", position=10)
    for metric, minutes in (
        (Metric.FIRST_REPLY, 30),
        (Metric.RESOLUTION, 240),
        (Metric.THIRD_PARTY_RESPONSE, 120),
    ):
        Target.objects.create(
            policy=policy,
            metric=metric,
            priority=Priority.NORMAL,
            minutes=minutes,
            is_business_time=False,
        )
    return policy


@pytest.fixture
def case_with_clocks(agent: Agent, policy: Policy) -> Case:
    case = make_case(agent, at=OPENED_AT)
    restaurant = ContactFactory(
        name="Harbour View Restaurant",
        is_third_party=True,
        organisation=OrganisationFactory(name="Harbour View Group"),
    )
    vendor = cases.open_thread(agent, case, contact=restaurant, channel=Channel.PHONE)
    cases.reply(agent, vendor, text="Can you confirm the booking?", at=at(10))
    recompute_case(case.pk, as_of=at(45))
    return case


def test_clocks_come_most_urgent_first_with_their_instants(
    api: ApiClient, case_with_clocks: Case, policy: Policy
) -> None:
    response = api.get(f"/cases/{case_with_clocks.pk}/clocks")

    assert response.status_code == 200
    assert [(c["metric"], c["state"], c["due_at"]) for c in response.json()] == [
        ("first_reply", "breached", minute(30)),
        ("third_party_response", "active", minute(130)),
        ("resolution", "active", minute(240)),
    ]


def test_a_breached_clock_shows_when_it_breached_and_what_it_counted(
    api: ApiClient, case_with_clocks: Case, policy: Policy
) -> None:
    response = api.get(f"/cases/{case_with_clocks.pk}/clocks")

    assert response.json()[0] == {
        "metric": "first_reply",
        "name": "First reply",
        "state": "breached",
        "started_at": minute(0),
        "due_at": minute(30),
        "breached_at": minute(30),
        "stopped_at": None,
        "elapsed_seconds": 45 * 60,
        "cycles": 1,
        "breaches": 1,
        "policy_id": policy.pk,
        "thread": None,
        "computed_at": response.json()[0]["computed_at"],
    }


def test_a_third_party_clock_names_its_thread_and_party(
    api: ApiClient, case_with_clocks: Case
) -> None:
    vendor = case_with_clocks.threads.get(party="third_party")

    response = api.get(f"/cases/{case_with_clocks.pk}/clocks")

    clock = response.json()[1]
    assert clock["name"] == "Third-party response — Harbour View Group"
    assert clock["thread"] == {
        "id": vendor.pk,
        "party": "third_party",
        "contact": "Harbour View Restaurant",
        "organisation": "Harbour View Group",
    }


def test_a_case_without_a_policy_owes_no_clocks(api: ApiClient, agent: Agent) -> None:
    case = make_case(agent)
    recompute_case(case.pk)

    response = api.get(f"/cases/{case.pk}/clocks")

    assert (response.status_code, response.json()) == (200, [])


def test_reading_the_clocks_is_audited_as_a_view(
    api: ApiClient, agent: Agent, case_with_clocks: Case
) -> None:
    written = AuditRecord.objects.count()

    api.get(f"/cases/{case_with_clocks.pk}/clocks")

    audit = AuditRecord.objects.filter(sequence__gt=written).get()
    assert (audit.actor, audit.action, audit.object_id, audit.outcome) == (
        agent,
        "case.view",
        str(case_with_clocks.pk),
        "granted",
    )


def test_clocks_of_a_missing_case_are_not_found(api: ApiClient, db: None) -> None:
    response = api.get("/cases/999999/clocks")

    assert (response.status_code, response.json()) == (404, {"detail": "Case 999999 not found."})


def test_clocks_of_a_case_beyond_clearance_are_refused_and_the_refusal_audited(
    api: ApiClient, clinical_case: Case
) -> None:
    recompute_case(clinical_case.pk)

    response = api.get(f"/cases/{clinical_case.pk}/clocks")

    assert response.status_code == 403
    assert "your clearance does not cover it" in response.json()["detail"]
    audit = AuditRecord.objects.get(object_id=str(clinical_case.pk), action="case.view")
    assert audit.outcome == "denied"


def test_clocks_need_a_signed_in_caller(client: Client, case_with_clocks: Case) -> None:
    response = client.get(f"/api/v1/cases/{case_with_clocks.pk}/clocks")

    assert response.status_code == 401


def test_a_met_first_reply_is_listed_after_the_running_clocks(
    api: ApiClient, agent: Agent, policy: Policy
) -> None:
    case = make_case(agent, at=OPENED_AT)
    cases.reply(agent, customer_thread(case), text="On it.", at=at(5))
    recompute_case(case.pk, as_of=at(20))

    response = api.get(f"/cases/{case.pk}/clocks")

    assert [(c["metric"], c["state"], c["stopped_at"]) for c in response.json()] == [
        ("resolution", "active", None),
        ("first_reply", "achieved", minute(5)),
    ]
