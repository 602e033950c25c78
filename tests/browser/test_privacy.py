"""An administrator exports and erases a contact, and keeps a retention policy, in the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.privacy.models import RetentionPolicy
from tests.browser.test_agent_flow import log_in
from tests.factories.cases import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def subject() -> Contact:
    contact = find_or_create_contact(
        IdentityKind.EMAIL, "zebulon@erasure-test.example", name="Zebulon Quartermaine"
    )
    make_case(customer=contact, subject="Zebulon's lost booking")
    return contact


def test_an_admin_downloads_a_contacts_data_then_erases_them(
    page: Page, live_server: Any, admin_agent: Agent, subject: Contact, tmp_path: Path
) -> None:
    refusals: list[str] = []
    page.on("console", lambda message: _collect_csp(message, refusals))
    log_in(page, live_server.url, admin_agent.email)
    page.goto(f"{live_server.url}/contacts/{subject.pk}/")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export data").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    page.get_by_role("link", name="Erase…").click()
    page.get_by_label("Type ERASE to confirm").fill("ERASE")
    page.get_by_role("button", name="Erase this contact").click()

    exported = json.loads(saved.read_text())
    assert exported["contact"]["name"] == "Zebulon Quartermaine"
    expect(page.get_by_role("heading", name=f"Contact #{subject.pk} erased")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Zebulon")
    assert Case.objects.get(customer=subject).subject == "[erased]"
    assert refusals == []


def test_a_mistyped_confirmation_erases_nothing(
    page: Page, live_server: Any, admin_agent: Agent, subject: Contact
) -> None:
    log_in(page, live_server.url, admin_agent.email)
    page.goto(f"{live_server.url}/privacy/contacts/{subject.pk}/erase/")

    page.get_by_label("Type ERASE to confirm").fill("erase please")
    page.get_by_role("button", name="Erase this contact").click()

    expect(page.get_by_role("alert")).to_contain_text("Type ERASE in capitals to erase.")
    assert Case.objects.get(customer=subject).subject == "Zebulon's lost booking"


def test_an_admin_adds_and_deletes_a_retention_policy(
    page: Page, live_server: Any, admin_agent: Agent
) -> None:
    refusals: list[str] = []
    page.on("console", lambda message: _collect_csp(message, refusals))
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server.url, admin_agent.email)
    page.goto(f"{live_server.url}/privacy/retention/")

    page.get_by_label("Sensitivity").select_option("clinical")
    page.get_by_label("Action").select_option("delete")
    page.get_by_label("After days").fill("365")
    page.get_by_role("button", name="Add policy").click()
    row = page.locator("#retention-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Clinical")
    expect(row).to_contain_text("365 days")
    row.get_by_role("button", name="Delete").click()

    expect(page.locator("#retention-list")).to_contain_text("No retention policies")
    assert not RetentionPolicy.objects.exists()
    assert refusals == []


def _collect_csp(message: ConsoleMessage, refusals: list[str]) -> None:
    if "Content Security Policy" in message.text:
        refusals.append(message.text)
