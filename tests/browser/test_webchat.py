from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from kiwidesk.cases.models import Case, Channel, Direction, Message
from kiwidesk.channels.webchat import stream
from tests.browser.test_agent_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _chat_demo(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.KIWIDESK_CHAT_DEMO = True
    # Replies are sent at once, as the worker would send them a moment later.
    settings.TASKS = IMMEDIATE_TASKS
    # Short streams, so the visitor's browser reconnects (with Last-Event-ID) mid-test.
    monkeypatch.setattr(stream, "STREAM_SECONDS", 2.0)


@pytest.fixture
def streams_opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The `after` id of every stream the server opened, in order."""
    opened: list[int] = []
    real_stream = stream.stream

    def counted(session_id: int, *, after: int, clock: stream.Clock | None = None):
        opened.append(after)
        return real_stream(session_id, after=after, clock=clock)

    monkeypatch.setattr(stream, "stream", counted)
    return opened


def wait_for(condition, *, seconds: float = 10) -> None:
    """Wait for the live server's threads to get somewhere (they run on their own)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition()


def test_a_visitor_and_an_agent_chat_without_reloading(
    browser: Browser, page: Page, live_server, agent, team, streams_opened: list[int]
):
    visitor = browser.new_context().new_page()
    visitor.goto(f"{live_server.url}/channels/chat/demo/")
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Your message").fill("How do I export my data?")
    visitor.keyboard.press("Enter")
    chat_log = visitor.get_by_role("log", name="Messages")
    expect(chat_log).to_contain_text("How do I export my data?")
    case = Case.objects.get(channel=Channel.CHAT)

    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#timeline")).to_contain_text("How do I export my data?")
    page.get_by_label(re.compile(r"^Reply to the customer")).fill("Settings, then Export.")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(chat_log.locator("li").last).to_contain_text("Settings, then Export.")
    answer = Message.objects.get(direction=Direction.OUTBOUND)
    wait_for(lambda: streams_opened[-1] == answer.chat_entry.pk)  # resumed after the reply
    expect(chat_log.locator("li")).to_have_count(2)
    expect(chat_log.locator("li").first).to_contain_text("You")
    expect(chat_log.locator("li").last).to_contain_text("Agent One")
    _end_chat(visitor)


def _end_chat(visitor: Page, *, says: str = "Chat ended. Thank you!") -> None:
    """End the chat and let its stream notice, so no server thread outlives the test."""
    visitor.get_by_role("button", name="End chat").click()
    expect(visitor.get_by_role("status")).to_have_text(says)
    visitor.context.close()
    wait_for(lambda: stream.SLOTS.open == 0)


def test_the_agent_sees_the_visitors_new_message_without_reloading(
    browser: Browser, page: Page, live_server, agent, team
):
    visitor = _visitor_writes(browser, live_server.url, "Is anyone there?")
    case = Case.objects.get(channel=Channel.CHAT)
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Is anyone there?")
    page.evaluate("window.__sameDocument = true")

    visitor.get_by_label("Your message").fill("My screen froze during a session")
    visitor.keyboard.press("Enter")

    expect(page.locator("#timeline")).to_contain_text("My screen froze during a session")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#timeline li.message-inbound")).to_have_count(2)
    _end_chat(visitor)
    expect(page.get_by_text("The chat has ended.")).to_be_visible()


def test_a_visitor_confirms_their_address_with_the_mailed_code(
    browser: Browser, page: Page, live_server, agent, team, mailoutbox: list
):
    visitor = _visitor_writes(browser, live_server.url, "Where are my session notes?")

    visitor.get_by_label("Your email, so we can answer if you leave").fill("clinician@example.org")
    visitor.get_by_role("button", name="Send me a code").click()
    code_field = visitor.get_by_label("The 6-digit code we emailed to clinician@example.org")
    expect(code_field).to_be_focused()
    log_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/cases/{Case.objects.get(channel=Channel.CHAT).pk}/")
    expect(page.locator("#threads")).to_contain_text(
        "Says they are clinician@example.org (not verified)"
    )
    code = mailoutbox[0].subject.split()[0]
    code_field.fill(f"{(int(code) + 1) % 10**6:06d}")
    visitor.get_by_role("button", name="Confirm").click()
    expect(visitor.get_by_role("status")).to_have_text("That code is not right; 4 tries left.")
    code_field.fill(code)
    visitor.get_by_role("button", name="Confirm").click()

    expect(visitor.get_by_role("status")).to_have_text(
        "Thank you: clinician@example.org is confirmed. If you leave, we will answer there."
    )
    expect(code_field).to_be_hidden()
    expect(page.locator("#threads")).to_contain_text(
        "Confirmed clinician@example.org with an emailed code"
    )
    _end_chat(visitor, says="Chat ended. A transcript is on its way to clinician@example.org.")


def _visitor_writes(browser: Browser, url: str, text: str) -> Page:
    visitor = browser.new_context().new_page()
    visitor.goto(f"{url}/channels/chat/demo/")
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Your message").fill(text)
    visitor.keyboard.press("Enter")
    expect(visitor.get_by_role("log", name="Messages")).to_contain_text(text)
    return visitor


def test_the_chat_opens_and_closes_from_the_keyboard(browser: Browser, live_server, team):
    visitor = browser.new_context().new_page()
    visitor.goto(f"{live_server.url}/channels/chat/demo/")
    launcher = visitor.get_by_role("button", name="Chat with us")

    launcher.focus()
    visitor.keyboard.press("Enter")

    expect(visitor.get_by_role("dialog", name="Chat with support")).to_be_visible()
    expect(visitor.get_by_label("Your message")).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    visitor.keyboard.press("Escape")
    expect(visitor.get_by_role("dialog", name="Chat with support")).to_be_hidden()
    expect(launcher).to_be_focused()
    visitor.context.close()
