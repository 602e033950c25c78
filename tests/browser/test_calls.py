"""An agent logs a phone call on the case page and sees it in the thread's timeline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Call, Channel
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from tests.browser.test_agent_flow import log_in
from tests.factories.cases import customer_thread, make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_logs_a_call_and_sees_it_in_the_thread(
    page: Page, live_server: Any, agent: Agent
) -> None:
    customer = find_or_create_contact(IdentityKind.PHONE, "+447700900123", name="VIP Customer")
    case = make_case(customer=customer, channel=Channel.WHATSAPP, subject="Table in Antigua")
    thread = customer_thread(case)
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    page.locator("details.call-log summary").first.click()
    expect(page.locator(f"#call-number-{thread.pk}")).to_have_value("+447700900123")
    page.locator(f"#call-direction-{thread.pk}").select_option("outbound")
    page.locator(f"#call-duration-{thread.pk}").fill("3:05")
    page.locator(f"#call-outcome-{thread.pk}").select_option("answered")
    page.locator(f"#call-notes-{thread.pk}").fill("Booked Harbour View for six on Monday.")
    page.get_by_role("button", name="Log call").first.click()

    expect(page.get_by_text("Call with VIP Customer logged.")).to_be_visible()
    logged = page.locator(".timeline .call")
    expect(logged).to_contain_text("Answered")
    expect(logged).to_contain_text("Call to +447700900123")
    expect(logged.locator(".call-duration")).to_have_text("3:05")
    expect(page.locator(".timeline")).to_contain_text("Booked Harbour View for six on Monday.")
    expect(page.locator("#threads")).to_contain_text("We are waiting for the customer")
    assert Call.objects.get().duration_seconds == 185
