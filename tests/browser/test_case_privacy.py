"""In a real browser: reveal a masked phone number, and break the glass on a case."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Sensitivity
from kiwidesk.privacy.models import AuditRecord
from tests.browser.test_agent_flow import log_in
from tests.factories.cases import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "+44 20 7946 0958"


def test_an_agent_reveals_one_masked_value(page: Page, live_server: Any, agent: Agent) -> None:
    case = make_case(subject="Call me back", message_text=f"Please ring {PHONE} after six.")
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    body = page.locator(".message-redacted")
    expect(body).to_contain_text("Please ring [phone number] after six.")
    expect(body).not_to_contain_text(PHONE)

    body.get_by_role("button", name="[phone number]").click()

    expect(body.locator("mark.pii-revealed")).to_have_text(PHONE)
    assert AuditRecord.objects.filter(action="pii.reveal", reason="phone #0").count() == 1


def test_an_agent_breaks_the_glass_on_a_confidential_case(
    page: Page, live_server: Any, agent: Agent
) -> None:
    case = make_case(subject="Family emergency", sensitivity=Sensitivity.CONFIDENTIAL)
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    expect(page.get_by_role("heading", name=f"Case #{case.pk} is confidential")).to_be_visible()
    expect(page.get_by_text("Family emergency")).to_have_count(0)
    page.get_by_label("Reason").fill("The customer is on the phone and their agent is away")
    page.get_by_label("For").select_option("15")
    page.get_by_role("button", name="Break the glass and open the case").click()

    expect(page.get_by_role("heading", name="Family emergency")).to_be_visible()
    expect(page.get_by_label("Break-glass")).to_contain_text("Opened by break-glass")
    expect(page.locator("#timeline")).to_contain_text("Opened by break-glass until")
