"""Leads and admins manage SLA policies and calendars and read the SLA report in the web UI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.contacts.models import Organisation
from kiwidesk.privacy.models import AuditRecord
from kiwidesk.sla.models import BusinessCalendar, Clock, Policy, Target
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case
from tests.factories.contacts import OrganisationFactory
from tests.web.conftest import log_in

PAGES = [
    "/sla/policies/",
    "/sla/policies/new/",
    "/sla/calendars/",
    "/sla/calendars/new/",
    "/sla/report/",
]


@pytest.fixture
def lead(db: None) -> Agent:
    return AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")


@pytest.fixture
def lead_client(client: Client, lead: Agent) -> Client:
    client.force_login(lead)
    return client


@pytest.fixture
def policy(db: None) -> Policy:
    return Policy.objects.create(name="Standard", position=10)


@pytest.fixture
def calendar(db: None) -> BusinessCalendar:
    return BusinessCalendar.objects.create(name="Office", weekly_hours={"0": [["09:00", "17:00"]]})


def policy_form(**changes: str) -> dict[str, str]:
    """What the new-policy form posts when only the name is filled in."""
    return {"name": "VIP", "is_active": "on", **changes}


def test_anonymous_visitors_are_sent_to_log_in(client: Client, db: None) -> None:
    statuses = [client.get(url) for url in PAGES]

    assert [(r.status_code, r.url.split("?")[0]) for r in statuses] == [(302, "/login/")] * 5


@pytest.mark.parametrize(
    ("role", "expected"), [("agent", 403), ("lead", 200), ("admin_agent", 200)]
)
def test_only_leads_and_admins_open_the_sla_pages(
    request: pytest.FixtureRequest,
    client: Client,
    policy: Policy,
    calendar: BusinessCalendar,
    role: str,
    expected: int,
) -> None:
    log_in(client, request.getfixturevalue(role))
    urls = [*PAGES, f"/sla/policies/{policy.pk}/", f"/sla/calendars/{calendar.pk}/"]

    statuses = [client.get(url).status_code for url in urls]

    assert statuses == [expected] * len(urls)


def test_an_agent_cannot_move_or_delete_a_policy(
    client: Client, agent: Agent, policy: Policy
) -> None:
    first = Policy.objects.create(name="First", position=0)
    log_in(client, agent)

    moved = client.post(f"/sla/policies/{policy.pk}/move/", {"direction": "up"})
    deleted = client.post(f"/sla/policies/{policy.pk}/delete/")

    assert (moved.status_code, deleted.status_code) == (403, 403)
    assert list(Policy.objects.values_list("pk", flat=True)) == [first.pk, policy.pk]


def test_the_sla_link_shows_for_leads_only(client: Client, agent: Agent, lead: Agent) -> None:
    log_in(client, agent)
    agent_page = client.get("/").content.decode()
    log_in(client, lead)

    lead_page = client.get("/").content.decode()

    assert ('id="sla-link"' in agent_page, 'id="sla-link"' in lead_page) == (False, True)


def test_a_lead_creates_a_policy_with_a_calendar_hours_first_reply_target(
    lead_client: Client, calendar: BusinessCalendar
) -> None:
    form = policy_form(
        calendar=str(calendar.pk),
        tiers="vip",
        tags="billing, refund",
        target_first_reply_urgent="15",
        target_first_reply_urgent_hours="calendar",
        target_resolution_urgent="480",
        target_resolution_urgent_hours="business",
    )

    response = lead_client.post("/sla/policies/new/", form)

    policy = Policy.objects.get(name="VIP")
    assert (response.status_code, response.url) == (302, "/sla/policies/")
    assert (policy.calendar_id, policy.tiers, policy.tags) == (
        calendar.pk,
        ["vip"],
        ["billing", "refund"],
    )
    assert sorted(
        policy.targets.values_list("metric", "priority", "minutes", "is_business_time")
    ) == [
        ("first_reply", "urgent", 15, False),
        ("resolution", "urgent", 480, True),
    ]
    assert AuditRecord.objects.filter(action="sla.policy.create").count() == 1


def test_a_zero_minute_target_is_refused_on_the_form(lead_client: Client) -> None:
    response = lead_client.post("/sla/policies/new/", policy_form(target_first_reply_low="0"))

    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert Policy.objects.count() == 0


def test_the_policy_form_shows_the_targets_it_has(lead_client: Client, policy: Policy) -> None:
    Target.objects.create(
        policy=policy, metric="next_reply", priority="high", minutes=90, is_business_time=False
    )

    response = lead_client.get(f"/sla/policies/{policy.pk}/")

    form = response.context["form"]
    assert (
        form["target_next_reply_high"].value(),
        form["target_next_reply_high_hours"].value(),
    ) == (
        90,
        "calendar",
    )


def test_saving_a_policy_keeps_a_third_partys_own_target(
    lead_client: Client, policy: Policy
) -> None:
    vendor: Organisation = OrganisationFactory(name="Harbour View")
    Target.objects.create(
        policy=policy, metric="third_party_response", priority="normal", minutes=240,
        organisation=vendor,
    )  # fmt: skip

    response = lead_client.post(
        f"/sla/policies/{policy.pk}/", policy_form(name="Standard", target_first_reply_normal="60")
    )

    assert response.status_code == 302
    assert sorted(policy.targets.values_list("metric", "minutes", "organisation_id")) == [
        ("first_reply", 60, None),
        ("third_party_response", 240, vendor.pk),
    ]


def test_moving_a_policy_up_puts_it_first(lead_client: Client, policy: Policy) -> None:
    later = Policy.objects.create(name="Later", position=20)

    response = lead_client.post(f"/sla/policies/{later.pk}/move/", {"direction": "up"})

    assert response.status_code == 302
    assert list(Policy.objects.values_list("name", flat=True)) == ["Later", "Standard"]


def test_the_policy_list_is_in_the_order_they_are_checked(
    lead_client: Client, policy: Policy
) -> None:
    Policy.objects.create(name="Earlier", position=1)

    response = lead_client.get("/sla/policies/")

    assert [p.name for p in response.context["policies"]] == ["Earlier", "Standard"]


def test_a_lead_deletes_a_policy(lead_client: Client, policy: Policy) -> None:
    response = lead_client.post(f"/sla/policies/{policy.pk}/delete/")

    assert response.status_code == 302
    assert Policy.objects.count() == 0


def test_a_lead_creates_a_calendar_with_split_and_overnight_hours(lead_client: Client) -> None:
    form = {
        "name": "Berlin",
        "time_zone": "Europe/Berlin",
        "day_0": "9:00-12:00, 13:00-17:00",
        "day_4": "22:00-06:00",
        "country": "de",
        "subdivision": "be",
        "extra_closed_dates": "2026-12-24\n2026-12-31",
    }

    response = lead_client.post("/sla/calendars/new/", form)

    calendar = BusinessCalendar.objects.get(name="Berlin")
    assert response.status_code == 302
    assert calendar.weekly_hours == {
        "0": [["09:00", "12:00"], ["13:00", "17:00"]],
        "4": [["22:00", "06:00"]],
    }
    assert (calendar.country, calendar.subdivision, calendar.extra_closed_dates) == (
        "DE",
        "BE",
        ["2026-12-24", "2026-12-31"],
    )


def test_an_unknown_time_zone_is_shown_on_the_calendar_form(
    lead_client: Client, calendar: BusinessCalendar
) -> None:
    form = {"name": "Office", "time_zone": "Mars/Olympus", "day_0": "09:00-17:00"}

    response = lead_client.post(f"/sla/calendars/{calendar.pk}/", form)

    assert response.status_code == 400
    assert "unknown time zone &#x27;Mars/Olympus&#x27;" in response.content.decode()
    assert BusinessCalendar.objects.get(pk=calendar.pk).time_zone == "UTC"


def test_hours_that_are_not_intervals_are_shown_on_their_weekday(lead_client: Client) -> None:
    form = {"name": "Office", "time_zone": "UTC", "day_2": "nine to five"}

    response = lead_client.post("/sla/calendars/new/", form)

    assert response.status_code == 400
    assert response.context["form"].errors["day_2"] == [
        "Write openings as 09:00-17:00, separated by commas."
    ]


def test_the_report_shows_achieved_and_breached_per_week_and_filters_by_team(
    lead_client: Client, policy: Policy, team: Team, other_team: Team
) -> None:
    started = datetime(2026, 3, 4, 10, tzinfo=UTC)
    for case_team, state, breaches in [
        (team, "breached", 1),
        (team, "achieved", 0),
        (other_team, "achieved", 0),
    ]:
        Clock.objects.create(
            case=make_case(team=case_team), policy=policy, metric="first_reply", state=state,
            started_at=started, breaches=breaches,
        )  # fmt: skip

    response = lead_client.get("/sla/report/", {"team": team.pk})

    rows = response.context["rows"]
    assert [(r.week, r.team_name, r.metric_name, r.achieved, r.breached) for r in rows] == [
        ("2026-W10", "Clinician support", "First reply", 1, 1)
    ]
    assert "2026-W10" in response.content.decode()


def test_a_report_range_that_ends_before_it_starts_is_refused(lead_client: Client) -> None:
    response = lead_client.get("/sla/report/", {"starts_on": "2026-03-09", "ends_on": "2026-03-01"})

    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == ["The range ends before it starts."]


@pytest.mark.parametrize("big", [str(2**63), str(2**70), "-1", "x"])
def test_a_team_id_no_row_can_have_is_refused_on_the_report(lead_client: Client, big: str) -> None:
    response = lead_client.get("/sla/report/", {"team": big, "policy": big})

    assert response.status_code == 400
    assert sorted(response.context["form"].errors) == ["policy", "team"]


def test_a_calendar_id_no_row_can_have_is_refused_on_the_policy_form(lead_client: Client) -> None:
    response = lead_client.post("/sla/policies/new/", policy_form(calendar=str(2**63)))

    assert response.status_code == 400
    assert Policy.objects.count() == 0
