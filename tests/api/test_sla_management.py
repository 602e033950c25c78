"""Leads and admins manage SLA policies and calendars and read the SLA report over the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.accounts.services import issue_token
from kiwidesk.privacy.models import AuditRecord
from kiwidesk.sla.models import (
    DEFAULT_FOLLOW_UP_MESSAGE,
    DEFAULT_SOLVE_NOTICE,
    BusinessCalendar,
    Clock,
    Policy,
    Target,
)
from tests.api.conftest import ApiClient
from tests.api.test_fuzz import bodies, json_values
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

FIRST_REPLY = {"metric": "first_reply", "priority": "normal", "minutes": 60}
OFFICE_HOURS = {"0": [["09:00", "17:00"]], "4": [["22:00", "06:00"]]}


@pytest.fixture
def lead(db: None) -> Agent:
    return AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")


@pytest.fixture
def lead_api(client: Client, lead: Agent) -> ApiClient:
    return ApiClient(client, issue_token(lead).secret)


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(name="Standard", position=10)
    Target.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60)
    return policy


@pytest.fixture
def calendar(db: None) -> BusinessCalendar:
    return BusinessCalendar.objects.create(name="Office", weekly_hours=OFFICE_HOURS)


def api_as(client: Client, actor: Agent | None) -> ApiClient:
    return ApiClient(client, issue_token(actor).secret if actor else None)


def requests_for(policy: Policy, calendar: BusinessCalendar) -> list[tuple[str, str, object]]:
    return [
        ("GET", "/sla/policies", None),
        ("POST", "/sla/policies", {"name": "New"}),
        ("GET", f"/sla/policies/{policy.pk}", None),
        ("PATCH", f"/sla/policies/{policy.pk}", {"name": "Renamed"}),
        ("DELETE", f"/sla/policies/{policy.pk}", None),
        ("GET", "/sla/calendars", None),
        ("POST", "/sla/calendars", {"name": "24/7", "is_always_open": True}),
        ("GET", f"/sla/calendars/{calendar.pk}", None),
        ("PATCH", f"/sla/calendars/{calendar.pk}", {"name": "Office hours"}),
        ("GET", "/sla/report", None),
    ]


def send(api: ApiClient, method: str, path: str, body: object) -> int:
    if method == "DELETE":
        return int(api.client.delete(f"/api/v1{path}", headers=api.headers).status_code)
    return int(api.send(method, path, body).status_code)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 401), ("agent", 403), ("lead", None), ("admin_agent", None)],
)
def test_only_leads_and_admins_use_the_sla_endpoints(
    request: pytest.FixtureRequest,
    client: Client,
    policy: Policy,
    calendar: BusinessCalendar,
    role: str,
    expected: int | None,
) -> None:
    actor = None if role == "anonymous" else request.getfixturevalue(role)
    api = api_as(client, actor)
    cases = requests_for(policy, calendar)

    statuses = [send(api, method, path, body) for method, path, body in cases]

    success = [201 if m == "POST" else 204 if m == "DELETE" else 200 for m, _, _ in cases]
    assert statuses == ([expected] * len(cases) if expected else success)


def test_a_lead_creates_a_policy_with_a_first_reply_target(
    lead_api: ApiClient, policy: Policy, calendar: BusinessCalendar
) -> None:
    body = {
        "name": "VIP",
        "calendar_id": calendar.pk,
        "tiers": ["vip"],
        "targets": [{**FIRST_REPLY, "minutes": 15, "is_business_time": False}],
    }

    response = lead_api.post("/sla/policies", body)

    created = response.json()
    assert response.status_code == 201
    assert (created["name"], created["order"], created["tiers"], created["calendar_id"]) == (
        "VIP",
        2,
        ["vip"],
        calendar.pk,
    )
    assert created["targets"] == [
        {
            "metric": "first_reply",
            "priority": "normal",
            "minutes": 15,
            "is_business_time": False,
            "organisation_id": None,
        }
    ]
    assert AuditRecord.objects.filter(action="sla.policy.create", actor__role="lead").count() == 1


def test_policies_are_listed_in_the_order_they_are_checked(
    lead_api: ApiClient, policy: Policy
) -> None:
    Policy.objects.create(name="First", position=1)

    response = lead_api.get("/sla/policies")

    assert [(p["order"], p["name"]) for p in response.json()] == [(1, "First"), (2, "Standard")]


def test_patching_the_order_moves_a_policy_first(lead_api: ApiClient, policy: Policy) -> None:
    later = Policy.objects.create(name="Later", position=50)

    response = lead_api.patch(f"/sla/policies/{later.pk}", {"order": 1})

    assert response.json()["order"] == 1
    assert list(Policy.objects.values_list("name", flat=True)) == ["Later", "Standard"]
    assert list(AuditRecord.objects.values_list("action", flat=True)) == ["sla.policy.move"]


def test_patching_the_name_keeps_the_targets(lead_api: ApiClient, policy: Policy) -> None:
    response = lead_api.patch(f"/sla/policies/{policy.pk}", {"name": "Standard hours"})

    assert response.status_code == 200
    assert list(policy.targets.values_list("metric", "minutes")) == [("first_reply", 60)]
    assert Policy.objects.get(pk=policy.pk).name == "Standard hours"


def test_deleting_a_policy_deletes_its_clocks(lead_api: ApiClient, policy: Policy) -> None:
    case = make_case()
    Clock.objects.create(
        case=case, policy=policy, metric="first_reply", state="active",
        started_at=datetime(2026, 3, 2, tzinfo=UTC),
    )  # fmt: skip

    response = lead_api.client.delete(f"/api/v1/sla/policies/{policy.pk}", headers=lead_api.headers)

    assert response.status_code == 204
    assert (Policy.objects.count(), Clock.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "The name is empty."),
        ({"name": "X", "channels": ["fax"]}, "Unknown channel 'fax'"),
        ({"name": "X", "targets": [{**FIRST_REPLY, "minutes": 0}]}, "at least 1 minute"),
        ({"name": "X", "targets": [FIRST_REPLY, FIRST_REPLY]}, "Two targets for first_reply"),
        ({"name": "X", "calendar_id": 404}, "There is no calendar 404."),
        ({"name": "X", "targets": [{**FIRST_REPLY, "minutes": 2**40}]}, "at most a year"),
        ({"name": "X\u0000"}, "Text may not hold a NUL character."),
    ],
)
def test_an_invalid_policy_is_a_422_with_the_reason(
    lead_api: ApiClient, body: dict[str, object], message: str
) -> None:
    response = lead_api.post("/sla/policies", body)

    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert Policy.objects.count() == 0


def test_an_unknown_metric_is_a_422(lead_api: ApiClient) -> None:
    body = {"name": "X", "targets": [{**FIRST_REPLY, "metric": "vibes"}]}

    response = lead_api.post("/sla/policies", body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "metric"


def test_a_missing_policy_is_a_404(lead_api: ApiClient) -> None:
    response = lead_api.get("/sla/policies/999")

    assert response.status_code == 404


def test_a_lead_creates_a_calendar_with_holidays_and_an_overnight_shift(
    lead_api: ApiClient,
) -> None:
    body = {
        "name": "Berlin",
        "time_zone": "Europe/Berlin",
        "weekly_hours": OFFICE_HOURS,
        "country": "DE",
        "subdivision": "BE",
        "extra_closed_dates": ["2026-12-24"],
    }

    response = lead_api.post("/sla/calendars", body)

    created = response.json()
    assert response.status_code == 201
    assert {k: created[k] for k in body} == body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"weekly_hours": {"9": [["09:00", "17:00"]]}}, "weekday 9 is not 0 (Monday) to 6"),
        ({"weekly_hours": {"0": [["25:00", "17:00"]]}}, "Not a valid calendar"),
        ({"weekly_hours": {}}, "Give opening hours for at least one weekday"),
        ({"country": "QQ"}, "Not a valid calendar"),
        ({"name": "Office\u0000"}, "Text may not hold a NUL character."),
        ({"country": "DEU"}, "Country: Ensure this value has at most 2 characters"),
    ],
)
def test_an_invalid_calendar_change_is_a_422_and_changes_nothing(
    lead_api: ApiClient, calendar: BusinessCalendar, body: dict[str, object], message: str
) -> None:
    response = lead_api.patch(f"/sla/calendars/{calendar.pk}", body)

    assert response.status_code == 422
    assert message in response.json()["detail"]
    stored = BusinessCalendar.objects.get(pk=calendar.pk)
    assert (stored.time_zone, stored.weekly_hours, stored.country) == ("UTC", OFFICE_HOURS, "")


def test_the_report_counts_a_breached_clock_in_its_week(
    lead_api: ApiClient, policy: Policy, team: object
) -> None:
    case = make_case(team=team)
    Clock.objects.create(
        case=case, policy=policy, metric="first_reply", state="breached",
        started_at=datetime(2026, 3, 4, tzinfo=UTC), breaches=1,
    )  # fmt: skip

    response = lead_api.get("/sla/report", policy_id=policy.pk, starts_on="2026-03-01")

    assert response.json() == [
        {
            "week": "2026-W10",
            "week_starts_on": "2026-03-02",
            "team_id": case.team_id,
            "team_name": "Clinician support",
            "policy_id": policy.pk,
            "policy_name": "Standard",
            "metric": "first_reply",
            "metric_name": "First reply",
            "achieved": 0,
            "breached": 1,
        }
    ]


def test_a_report_range_ending_before_it_starts_is_a_422(lead_api: ApiClient) -> None:
    response = lead_api.get("/sla/report", starts_on="2026-03-09", ends_on="2026-03-01")

    assert (response.status_code, response.json()) == (
        422,
        {"detail": "starts_on is after ends_on."},
    )


TARGET_FIELDS = bodies("metric", "priority", "minutes", "is_business_time", "organisation_id")
FUZZED = [
    (
        "POST",
        "/sla/policies",
        bodies("name", "calendar_id", "tiers", "tags", "categories")
        | st.fixed_dictionaries({"name": st.text(max_size=5), "targets": st.lists(TARGET_FIELDS)}),
    ),
    ("PATCH", "/sla/policies/{policy}", bodies("name", "order", "calendar_id", "targets")),
    ("POST", "/sla/calendars", bodies("name", "time_zone", "weekly_hours", "country")),
    (
        "PATCH",
        "/sla/calendars/{calendar}",
        bodies("time_zone", "weekly_hours", "subdivision", "extra_closed_dates")
        | st.fixed_dictionaries(
            {"weekly_hours": st.dictionaries(st.text(max_size=2), st.lists(json_values))}
        ),
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "strategy"), FUZZED, ids=[f"{m} {p}" for m, p, _ in FUZZED]
)
def test_no_json_body_makes_the_sla_endpoints_fail(
    lead_api: ApiClient,
    policy: Policy,
    calendar: BusinessCalendar,
    method: str,
    path: str,
    strategy: st.SearchStrategy[Any],
) -> None:
    url = path.format(policy=policy.pk, calendar=calendar.pk)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=strategy | json_values)
    def answers_below_500(body: Any) -> None:
        response = lead_api.send(method, url, body)

        assert response.status_code < 500, response.content

    answers_below_500()


@pytest.mark.parametrize("big", [2**63, 2**70])
@pytest.mark.parametrize("path", ["/sla/policies/{big}", "/sla/calendars/{big}"])
def test_an_id_beyond_any_column_is_a_404(lead_api: ApiClient, path: str, big: int) -> None:
    response = lead_api.get(path.format(big=big))

    assert response.status_code == 404


@given(
    query=st.dictionaries(
        st.sampled_from(["team_id", "policy_id", "starts_on", "ends_on"]),
        st.text(max_size=12) | st.integers(min_value=-(2**70), max_value=2**70).map(str),
        max_size=4,
    )
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_query_string_makes_the_report_fail(lead_api: ApiClient, query: dict[str, str]) -> None:
    response = lead_api.get("/sla/report", **query)

    assert response.status_code in (200, 422), response.content


# What a warning and a breach do, and the follow-up reminders ---------------------------


def actions_body(team: Team, teammate: Agent) -> dict[str, object]:
    """Every warning, breach and follow-up setting, each away from its default."""
    return {
        "warn_minutes_before": 30,
        "warning_notifies": True,
        "warning_raises_priority": True,
        "warning_team_id": team.pk,
        "warning_assignee_id": teammate.pk,
        "warning_tag": "Nearly Late",
        "breach_notifies": True,
        "breach_raises_priority": True,
        "breach_team_id": team.pk,
        "breach_assignee_id": teammate.pk,
        "breach_tag": "late",
        "follow_up_limit": 4,
        "solves_after_follow_ups": True,
        "follow_up_message": "Are you still there?",
        "solve_notice": "We closed your case; reply to open it again.",
    }


def test_a_lead_creates_a_policy_with_every_warning_breach_and_follow_up_setting(
    lead_api: ApiClient, team: Team, teammate: Agent
) -> None:
    body = actions_body(team, teammate)

    response = lead_api.post("/sla/policies", {"name": "Escalating", **body})

    created = response.json()
    assert response.status_code == 201
    assert {name: created[name] for name in body} == {**body, "warning_tag": "nearly late"}
    assert lead_api.get(f"/sla/policies/{created['id']}").json() == created
    assert AuditRecord.objects.filter(action="sla.policy.create").count() == 1


def test_a_new_policy_has_no_escalation_and_the_standard_follow_up_texts(
    lead_api: ApiClient,
) -> None:
    response = lead_api.post("/sla/policies", {"name": "Plain"})

    created = response.json()
    assert (created["warn_minutes_before"], created["breach_team_id"], created["breach_tag"]) == (
        None,
        None,
        "",
    )
    assert (created["follow_up_limit"], created["follow_up_message"], created["solve_notice"]) == (
        3,
        DEFAULT_FOLLOW_UP_MESSAGE,
        DEFAULT_SOLVE_NOTICE,
    )


def test_patching_the_breach_tag_changes_only_the_breach_tag(
    lead_api: ApiClient, team: Team, teammate: Agent
) -> None:
    body = actions_body(team, teammate)
    created = lead_api.post("/sla/policies", {"name": "Escalating", **body}).json()

    response = lead_api.patch(f"/sla/policies/{created['id']}", {"breach_tag": "Overdue"})

    assert response.status_code == 200
    assert response.json() == {**created, "breach_tag": "overdue"}
    assert AuditRecord.objects.filter(action="sla.policy.update").count() == 1


def test_patching_a_team_to_null_stops_moving_the_case(
    lead_api: ApiClient, team: Team, teammate: Agent
) -> None:
    created = lead_api.post("/sla/policies", {"name": "E", **actions_body(team, teammate)}).json()

    response = lead_api.patch(
        f"/sla/policies/{created['id']}", {"breach_team_id": None, "breach_tag": None}
    )

    assert (response.json()["breach_team_id"], response.json()["breach_tag"]) == (None, "late")
    assert Policy.objects.get(pk=created["id"]).breach_team_id is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"breach_team_id": 999_999}, "On breach: there is no team 999999."),
        ({"warning_assignee_id": 999_999}, "On warning: there is no agent 999999."),
        (
            {"breach_tag": "late, escalated"},
            "On breach: a tag is one word or phrase, without commas.",
        ),
        ({"warning_tag": "x" * 51}, "On warning: a tag is at most 50 characters."),
        ({"warn_minutes_before": 0}, "Warn at least 1 minute before a clock is due"),
        ({"follow_up_limit": 21}, "Send from 0 to 20 follow-up reminders."),
        ({"follow_up_limit": 2**70}, "Send from 0 to 20 follow-up reminders."),
        ({"solve_notice": ""}, "The solve notice is empty."),
    ],
)
def test_a_bad_escalation_or_follow_up_setting_is_a_422_with_the_reason(
    lead_api: ApiClient, body: dict[str, object], message: str
) -> None:
    response = lead_api.post("/sla/policies", {"name": "X", **body})

    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert Policy.objects.count() == 0


def test_a_bad_team_in_a_patch_is_a_422_and_changes_nothing(
    lead_api: ApiClient, policy: Policy
) -> None:
    response = lead_api.patch(
        f"/sla/policies/{policy.pk}", {"breach_tag": "late", "breach_team_id": 999_999}
    )

    assert response.status_code == 422
    assert response.json() == {"detail": "On breach: there is no team 999999."}
    policy.refresh_from_db()
    assert (policy.breach_tag, policy.breach_team_id) == ("", None)


def test_a_deactivated_agent_cannot_be_the_breach_assignee(
    lead_api: ApiClient, policy: Policy, teammate: Agent
) -> None:
    teammate.is_active = False
    teammate.save()

    response = lead_api.patch(f"/sla/policies/{policy.pk}", {"breach_assignee_id": teammate.pk})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "On breach: Agent Two is deactivated and cannot take cases."
    }


def test_an_agent_may_not_set_what_a_breach_does(
    client: Client, agent: Agent, policy: Policy, team: Team
) -> None:
    api = api_as(client, agent)

    response = api.patch(f"/sla/policies/{policy.pk}", {"breach_team_id": team.pk})

    assert response.status_code == 403
    assert response.json() == {"detail": "Only support leads and administrators manage SLAs."}
    assert Policy.objects.get(pk=policy.pk).breach_team_id is None
    assert AuditRecord.objects.filter(action="sla.policy.update").count() == 0


def test_the_openapi_document_describes_the_breach_settings(client: Client, db: None) -> None:
    spec = client.get("/api/v1/openapi.json").json()

    fields = spec["components"]["schemas"]["PolicyIn"]["properties"]
    assert fields["breach_tag"]["description"] == (
        'On breach: add this tag (stored as a case tag: lower case, at most 50 characters); "": '
        "none."
    )
    assert fields["follow_up_limit"]["description"] == (
        "Reminders sent while the case waits on the customer, 0 to 20."
    )
