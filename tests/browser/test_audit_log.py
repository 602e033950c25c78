"""An administrator opens a case, then finds that opening in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kiwidesk.accounts.models import Agent
from tests.browser.test_agent_flow import log_in
from tests.factories.cases import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sees_their_own_case_view_in_the_audit_log(
    page: Page, live_server: Any, admin_agent: Agent
) -> None:
    case = make_case(subject="The invoice total is wrong")
    log_in(page, live_server.url, admin_agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.get_by_role("heading", name="The invoice total is wrong")).to_be_visible()

    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Object id").fill(str(case.pk))
    page.get_by_role("button", name="Show").click()

    row = page.locator("#audit tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("admin@kiwidesk.test")
    expect(row).to_contain_text("case.view")
    expect(row).to_contain_text(f"case {case.pk}")
    expect(row).to_contain_text("Granted")
