from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kiwidesk.cases import services
from kiwidesk.cases.models import Direction, Message, Party, Status
from tests.factories.accounts import PASSWORD
from tests.factories.cases import customer_thread, make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="All open")).to_be_visible()


def test_agent_works_a_case_from_inbox_to_timeline(page: Page, live_server, agent):
    make_case(subject="Password reset email never arrives")
    case = make_case(subject="Table for six in Antigua on Monday")
    log_in(page, live_server.url, agent.email)

    page.keyboard.press("/")
    expect(page.get_by_label("Search", exact=True)).to_be_focused()
    page.keyboard.type("Antigua")
    page.keyboard.press("Enter")
    expect(page.locator("#case-list tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Table for six in Antigua on Monday").click()
    # The shortcut belongs to the case page: wait for it before pressing keys.
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))

    page.keyboard.press("r")
    expect(page.locator("textarea:focus")).to_have_count(1)
    page.keyboard.type("Of course, I am calling restaurants now.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Message to")).to_be_visible()

    page.get_by_label("Or a new one: name").fill("Harbour View Restaurant")
    page.get_by_label("Phone").fill("+1 268 555 0100")
    page.get_by_label("First message (optional)").fill("A table for six on Monday at eight?")
    page.get_by_role("button", name="Open thread").click()
    expect(page.get_by_text("Thread with Harbour View Restaurant opened.")).to_be_visible()

    page.get_by_label("Status").select_option(Status.PENDING_THIRD_PARTY)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Of course, I am calling restaurants now.")
    expect(timeline).to_contain_text("Third party thread opened on Phone")
    expect(timeline).to_contain_text("A table for six on Monday at eight?")
    expect(timeline).to_contain_text("Status: Open → Pending third party")
    case.refresh_from_db()
    assert case.status == Status.PENDING_THIRD_PARTY
    assert list(
        Message.objects.filter(case=case, direction=Direction.OUTBOUND)
        .order_by("id")
        .values_list("thread__party", flat=True)
    ) == [Party.CUSTOMER, Party.THIRD_PARTY]


def test_scripts_in_a_customer_message_never_run(page: Page, live_server, agent):
    case = make_case(subject="Formatting test")
    services.receive_message(
        customer_thread(case),
        text="",
        html=(
            "<p>Hello <b>team</b></p>"
            "<script>window.__pwned = true; document.title = 'pwned';</script>"
            '<img src="x" onerror="window.__pwned = true; document.title = \'pwned\'">'
        ),
    )
    log_in(page, live_server.url, agent.email)

    page.goto(f"{live_server.url}/cases/{case.pk}/")

    expect(page.locator(".message-body b", has_text="team")).to_be_visible()
    assert page.evaluate("window.__pwned === undefined") is True
    assert page.title() == f"#{case.pk} Formatting test · Kiwidesk"
