"""Leads set what a policy's warnings and breaches do, and its follow-up reminders, in the
policy form."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.privacy.models import AuditRecord
from kiwidesk.sla.models import DEFAULT_FOLLOW_UP_MESSAGE, Policy, Target
from tests.factories.accounts import AgentFactory


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


def filled_form(**changes: str) -> dict[str, str]:
    """What the policy form posts with the name and the follow-up texts filled in."""
    return {
        "name": "Standard",
        "is_active": "on",
        "follow_up_limit": "3",
        "follow_up_message": "Are you still there?",
        "solve_notice": "We closed your case.",
        **changes,
    }


def test_the_form_groups_the_warning_breach_and_follow_up_settings(
    lead_client: Client, policy: Policy
) -> None:
    response = lead_client.get(f"/sla/policies/{policy.pk}/")

    legends = re.findall(r"<legend>([^<]+)</legend>", response.content.decode())
    assert legends[-3:] == [
        "When a clock is about to breach",
        "When a clock breaches",
        "Follow-up reminders",
    ]


def test_the_form_shows_the_saved_breach_actions(
    lead_client: Client, team: Team, teammate: Agent
) -> None:
    policy = Policy.objects.create(
        name="Standard", breach_team=team, breach_assignee=teammate, breach_tag="late"
    )

    response = lead_client.get(f"/sla/policies/{policy.pk}/")

    form = response.context["form"]
    assert (form["breach_team_id"].value(), form["breach_assignee_id"].value()) == (
        team.pk,
        teammate.pk,
    )
    html = response.content.decode()
    assert f'<option value="{team.pk}" selected>Clinician support</option>' in html
    assert 'name="breach_tag" value="late"' in html


def test_a_new_policy_form_offers_the_standard_reminder_text(lead_client: Client) -> None:
    response = lead_client.get("/sla/policies/new/")

    assert response.context["form"]["follow_up_message"].value() == DEFAULT_FOLLOW_UP_MESSAGE


def test_a_lead_saves_what_a_warning_and_a_breach_do(
    lead_client: Client, policy: Policy, team: Team, teammate: Agent
) -> None:
    form = filled_form(
        warn_minutes_before="30",
        warning_notifies="on",
        warning_assignee_id=str(teammate.pk),
        breach_raises_priority="on",
        breach_team_id=str(team.pk),
        breach_tag=" Late ",
        follow_up_limit="5",
        solves_after_follow_ups="on",
    )

    response = lead_client.post(f"/sla/policies/{policy.pk}/", form)

    policy.refresh_from_db()
    assert (response.status_code, response.url) == (302, "/sla/policies/")
    assert (
        policy.warn_minutes_before,
        policy.warning_notifies,
        policy.warning_assignee_id,
        policy.warning_team_id,
    ) == (30, True, teammate.pk, None)
    assert (policy.breach_raises_priority, policy.breach_team_id, policy.breach_tag) == (
        True,
        team.pk,
        "late",
    )
    assert (
        policy.follow_up_limit,
        policy.solves_after_follow_ups,
        policy.follow_up_message,
        policy.solve_notice,
    ) == (5, True, "Are you still there?", "We closed your case.")
    assert AuditRecord.objects.filter(action="sla.policy.update", actor__role="lead").count() == 1


def test_a_tag_with_a_comma_is_shown_by_its_field_and_nothing_is_saved(
    lead_client: Client, policy: Policy
) -> None:
    response = lead_client.post(
        f"/sla/policies/{policy.pk}/", filled_form(breach_tag="late, escalated")
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "breach_tag": ["On breach: a tag is one word or phrase, without commas."]
    }
    assert 'aria-describedby="id_breach_tag_error"' in html
    assert '<div id="id_breach_tag_error"><p class="field-error" role="alert">' in html
    assert Policy.objects.get(pk=policy.pk).breach_tag == ""


def test_an_empty_reminder_text_is_refused_at_its_field(
    lead_client: Client, policy: Policy
) -> None:
    response = lead_client.post(f"/sla/policies/{policy.pk}/", filled_form(follow_up_message=""))

    assert response.status_code == 400
    assert response.context["form"].errors == {"follow_up_message": ["The reminder text is empty."]}
    assert Policy.objects.get(pk=policy.pk).follow_up_message == DEFAULT_FOLLOW_UP_MESSAGE


def test_too_many_reminders_are_refused_with_the_allowed_range(
    lead_client: Client, policy: Policy
) -> None:
    response = lead_client.post(f"/sla/policies/{policy.pk}/", filled_form(follow_up_limit="25"))

    html = response.content.decode()
    assert response.context["form"].errors == {
        "follow_up_limit": ["Send from 0 to 20 follow-up reminders."]
    }
    assert 'aria-describedby="id_follow_up_limit_helptext id_follow_up_limit_error"' in html
    assert Policy.objects.get(pk=policy.pk).follow_up_limit == 3


def test_a_breach_assignee_deactivated_since_is_shown_and_must_be_changed(
    lead_client: Client, team: Team, teammate: Agent
) -> None:
    policy = Policy.objects.create(name="Standard", breach_assignee=teammate)
    teammate.is_active = False
    teammate.save()
    form = filled_form(breach_assignee_id=str(teammate.pk))

    shown = lead_client.get(f"/sla/policies/{policy.pk}/")
    saved = lead_client.post(f"/sla/policies/{policy.pk}/", form)

    assert f'<option value="{teammate.pk}" selected>Agent Two</option>' in shown.content.decode()
    assert saved.context["form"].errors == {
        "breach_assignee_id": ["On breach: Agent Two is deactivated and cannot take cases."]
    }
    html = saved.content.decode()
    assert 'aria-describedby="id_breach_assignee_id_error"' in html


def test_the_policy_list_sums_up_what_warnings_and_breaches_do(
    lead_client: Client, policy: Policy, team: Team
) -> None:
    policy.warn_minutes_before = 30
    policy.breach_notifies = True
    policy.breach_raises_priority = True
    policy.breach_team = team
    policy.breach_tag = "late"
    policy.save()
    Target.objects.create(policy=policy, metric="follow_up", priority="normal", minutes=1440)

    response = lead_client.get("/sla/policies/")

    summary = re.search(r'<td class="policy-actions">([^<]*)</td>', response.content.decode())
    assert summary is not None
    assert summary.group(1) == (
        "warns 30 min before; on breach: notify, +priority, move to Clinician support, "
        "add tag late; at most 3 reminders"
    )


def test_the_policy_list_reads_the_same_queries_for_more_policies(
    lead_client: Client,
    team: Team,
    teammate: Agent,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for position in range(5):
        Policy.objects.create(
            name=f"P{position}",
            position=position,
            warning_team=team,
            warning_assignee=teammate,
            breach_team=team,
            breach_assignee=teammate,
        )

    with django_assert_max_num_queries(4):
        response = lead_client.get("/sla/policies/")

    assert response.status_code == 200


def test_an_agent_cannot_change_what_a_breach_does(
    client: Client, agent: Agent, policy: Policy
) -> None:
    client.force_login(agent)

    response = client.post(f"/sla/policies/{policy.pk}/", filled_form(breach_tag="late"))

    assert response.status_code == 403
    assert Policy.objects.get(pk=policy.pk).breach_tag == ""


def test_a_tag_with_markup_is_listed_as_text(lead_client: Client, policy: Policy) -> None:
    policy.breach_tag = "<b>late</b>"
    policy.save()

    response = lead_client.get("/sla/policies/")

    html = response.content.decode()
    assert "on breach: add tag &lt;b&gt;late&lt;/b&gt;" in html
    assert "<b>late</b>" not in html


def test_a_form_posted_without_the_follow_up_fields_keeps_them(
    lead_client: Client, policy: Policy
) -> None:
    policy.follow_up_limit = 7
    policy.follow_up_message = "Still there?"
    policy.save()

    response = lead_client.post(f"/sla/policies/{policy.pk}/", {"name": "Standard"})

    policy.refresh_from_db()
    assert response.status_code == 302
    assert (policy.follow_up_limit, policy.follow_up_message) == (7, "Still there?")
