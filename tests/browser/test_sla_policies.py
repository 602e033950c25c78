"""A lead sets up an SLA policy in the browser and the open cases owe its clocks at once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kiwidesk.sla.models import Policy
from tests.browser.test_agent_flow import log_in
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_a_lead_creates_a_first_reply_policy_and_sees_it_on_a_case(
    page: Page, live_server: Any, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    lead = AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")
    case = make_case(subject="The booking page shows no tables")
    log_in(page, live_server.url, lead.email)
    page.get_by_role("link", name="SLA").click()
    page.get_by_role("link", name="New policy").click()

    page.get_by_label("Name").fill("Standard")
    page.get_by_label("First reply, Normal: minutes").fill("60")
    page.get_by_label("First reply, Normal: hours").select_option("calendar")
    page.get_by_role("button", name="Save policy").click()

    expect(page.get_by_text("Policy “Standard” created.")).to_be_visible()
    expect(page.get_by_role("link", name="Standard")).to_be_visible()
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    clock = page.locator("#clocks li.clock")
    expect(clock).to_have_count(1)
    expect(clock).to_contain_text("First reply")
    # Whatever the page took to load, the hour started when the case was opened.
    expect(clock).to_contain_text(re.compile(r"due in 5\d min"))
    assert Policy.objects.get().targets.get().is_business_time is False


def test_a_lead_moves_a_policy_up_without_leaving_the_list(page: Page, live_server: Any) -> None:
    lead = AgentFactory(email="lead@kiwidesk.test", name="Lead", role="lead")
    Policy.objects.create(name="Standard", position=10)
    Policy.objects.create(name="VIP", position=20)
    log_in(page, live_server.url, lead.email)
    page.goto(f"{live_server.url}/sla/policies/")

    page.get_by_role("button", name="Move VIP up").click()

    names = page.locator("#policy-list tbody td.subject a")
    expect(names).to_have_text(["VIP", "Standard"])
    expect(page.get_by_role("button", name="Move VIP up")).to_be_disabled()
    assert list(Policy.objects.values_list("name", flat=True)) == ["VIP", "Standard"]
