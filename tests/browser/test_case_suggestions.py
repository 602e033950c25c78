from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kiwidesk.cases import events, services
from kiwidesk.cases.models import Case
from tests.browser.test_agent_flow import log_in
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_merges_a_suggested_case_in_one_click(page: Page, live_server, agent):
    customer = ContactFactory()
    other = make_case(customer=customer, subject="Table for six in Antigua")
    case = make_case(customer=customer, subject="Also a car from the airport")
    events.merge_suggested(case, other=other, at=timezone.now())
    services.receive_message(
        customer_thread(case),
        text="Monday works.",
        inbound=services.InboundDetails(full_text="Monday works.\n\n> Which day suits you?"),
    )
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    expect(page.get_by_text("Which day suits you?")).to_be_hidden()
    page.get_by_text("Show full message").click()
    expect(page.get_by_text("Which day suits you?")).to_be_visible()
    page.get_by_role("button", name=f"Merge this case into #{other.pk}").click()

    expect(page.get_by_text(f"Case #{case.pk} was merged into this case.")).to_be_visible()
    assert page.url == f"{live_server.url}/cases/{other.pk}/"
    assert Case.objects.get(pk=case.pk).merged_into_id == other.pk
