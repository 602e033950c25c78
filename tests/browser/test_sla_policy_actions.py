"""A lead sets in the browser what a policy does when one of its clocks breaches."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kiwidesk.accounts.models import Team
from kiwidesk.sla.models import Policy
from tests.browser.test_agent_flow import log_in
from tests.factories.accounts import AgentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_adds_a_tag_on_breach_and_sees_it_in_the_policy_list(
    page: Page, live_server: Any, team: Team
) -> None:
    lead = AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")
    policy = Policy.objects.create(name="Standard", position=10)
    log_in(page, live_server.url, lead.email)
    page.goto(f"{live_server.url}/sla/policies/")
    page.get_by_role("link", name="Standard").click()

    on_breach = page.get_by_role("group", name="When a clock breaches")
    on_breach.get_by_label("Raise the priority one step").check()
    on_breach.get_by_label("Move the case to").select_option(label="Clinician support")
    on_breach.get_by_label("Add the tag").fill("Breached SLA")
    page.get_by_role("button", name="Save policy").click()

    expect(page.get_by_text("Policy “Standard” saved.")).to_be_visible()
    expect(page.locator(f"#policy-{policy.pk} td.policy-actions")).to_have_text(
        "on breach: +priority, move to Clinician support, add tag breached sla"
    )
    policy.refresh_from_db()
    assert (policy.breach_raises_priority, policy.breach_team_id, policy.breach_tag) == (
        True,
        team.pk,
        "breached sla",
    )
