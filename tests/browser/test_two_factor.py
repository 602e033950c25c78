"""In a real browser: logging in with an authenticator app, and no page breaks the CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.accounts.authenticator import code_for, enrol
from tests.browser.test_agent_flow import log_in
from tests.factories.accounts import PASSWORD
from tests.factories.cases import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Listens from the first script on: the browser fires this event for every refusal.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def violations(page: Page) -> Iterator[list[str]]:
    """CSP refusals, from the console and from securitypolicyviolation events."""
    found: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(message.text)

    page.on("console", on_console)
    return found


def page_violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__cspViolations || []"))


def test_an_agent_with_an_app_logs_in_with_password_then_code(
    page: Page, live_server, clinical_agent, violations: list[str]
) -> None:
    device = enrol(clinical_agent)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(clinical_agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Verify").click()

    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator("#second-factor-prompt")).to_have_count(0)
    assert violations == []
    assert page_violations(page) == []


def test_the_login_inbox_and_case_page_raise_no_csp_violation(
    page: Page, live_server, agent, violations: list[str]
) -> None:
    case = make_case(agent, subject="The care-pathway screen froze")
    page.goto(f"{live_server.url}/login/")
    seen = page_violations(page)
    log_in(page, live_server.url, agent.email)
    seen += page_violations(page)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text("The care-pathway screen froze")).to_be_visible()
    page.wait_for_load_state("networkidle")
    seen += page_violations(page)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.wait_for_load_state("networkidle")
    seen += page_violations(page)

    assert violations == []
    assert seen == []


def test_keyboard_shortcuts_still_work_without_inline_script(
    page: Page, live_server, agent
) -> None:
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/")

    page.keyboard.press("c")

    expect(page).to_have_url(f"{live_server.url}/cases/new/")


def test_the_api_docs_load_without_csp_violation(
    page: Page, live_server, agent, violations: list[str]
) -> None:
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/api/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kiwidesk API")
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert violations == []
    assert page_violations(page) == []


def test_setting_up_an_app_shows_the_qr_code(page: Page, live_server, agent) -> None:
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/account/two-factor/")

    expect(page.locator("figure.qr-code svg")).to_be_visible()
    expect(page.locator("#totp-secret")).to_have_text(re.compile(r"^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$"))


def test_the_admin_site_raises_no_csp_violation(
    page: Page, live_server, admin_agent, violations: list[str]
) -> None:
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Email").fill(admin_agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    seen = page_violations(page)
    page.goto(f"{live_server.url}/admin/accounts/agent/{admin_agent.pk}/change/")
    page.wait_for_load_state("networkidle")
    seen += page_violations(page)

    assert violations == []
    assert seen == []
