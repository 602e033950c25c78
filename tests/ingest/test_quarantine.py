from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Message
from kiwidesk.ingest import handlers, parsers
from kiwidesk.ingest.contract import InboundMessage
from kiwidesk.ingest.models import QuarantinedMessage
from kiwidesk.ingest.parsers import NoParserError
from kiwidesk.ingest.services import quarantine, reprocess
from tests.factories.accounts import AgentFactory
from tests.ingest import inbound
from tests.queue import queue_commits

# Not valid UTF-8, with a NUL and CRLFs: exactly what a broken mail looks like.
BROKEN = b"From: customer@example.org\r\nSubject: \xff\xfe broken\r\n\r\n\x00body\r\n"


def _parse_anything(raw: bytes, source: str) -> InboundMessage:
    return inbound.email(source=source, external_id="<fixed@mail.example.org>", raw=raw)


@pytest.fixture
def fake_email_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers, "_PARSERS", {})
    parsers.register("email", _parse_anything)


def _quarantined() -> QuarantinedMessage:
    return quarantine(BROKEN, channel="email", source=inbound.MAILBOX, reason="unparseable",
                      external_id="<broken@mail.example.org>")  # fmt: skip


def test_quarantine_keeps_the_raw_bytes_exactly(db: None) -> None:
    item = _quarantined()

    kept = QuarantinedMessage.objects.get(pk=item.pk)

    assert bytes(kept.raw) == BROKEN
    assert (kept.channel, kept.source, kept.reason) == ("email", inbound.MAILBOX, "unparseable")
    assert kept.reprocessed_at is None


def test_the_same_broken_mail_delivered_twice_is_kept_once(db: None) -> None:
    first = _quarantined()

    second = _quarantined()

    assert second == first
    assert QuarantinedMessage.objects.count() == 1


def test_reprocessing_ingests_the_item_and_marks_it(db: None, fake_email_parser: None) -> None:
    item = _quarantined()

    result = reprocess(item)

    item.refresh_from_db()
    assert item.message == result.message
    assert item.reprocessed_at is not None
    assert result.message.external_id == "<fixed@mail.example.org>"
    with result.message.raw_file.open("rb") as kept:
        assert kept.read() == BROKEN


def _refuse(raw: bytes, source: str) -> InboundMessage:
    raise ValueError("the channel's own parser must not be asked")


def test_reprocessing_uses_the_parser_of_the_adapter_that_quarantined_it(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsers, "_PARSERS", {})
    parsers.register("email", _refuse)
    parsers.register("twilio-like", _parse_anything)
    item = quarantine(BROKEN, channel="email", adapter="twilio-like", source=inbound.MAILBOX,
                      reason="unparseable")  # fmt: skip

    result = reprocess(item)

    assert result.message.external_id == "<fixed@mail.example.org>"


def test_reprocessing_without_a_parser_leaves_the_item_alone(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsers, "_PARSERS", {})
    item = _quarantined()

    with pytest.raises(NoParserError, match="no parser is registered for the 'email' channel"):
        reprocess(item)

    item.refresh_from_db()
    assert (item.reprocessed_at, item.message, Message.objects.count()) == (None, None, 0)


def test_admin_downloads_the_raw_bytes(admin_agent: Agent, client: Client) -> None:
    item = _quarantined()
    client.force_login(admin_agent)

    response = client.get(f"/admin/ingest/quarantinedmessage/{item.pk}/raw/")

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response.content == BROKEN


def test_admin_lists_quarantined_items(admin_agent: Agent, client: Client) -> None:
    item = _quarantined()
    client.force_login(admin_agent)

    response = client.get("/admin/ingest/quarantinedmessage/")

    assert response.status_code == 200
    assert f"/admin/ingest/quarantinedmessage/{item.pk}/change/" in response.content.decode()


def test_admin_action_reprocesses_the_selected_items(
    admin_agent: Agent, client: Client, fake_email_parser: None
) -> None:
    item = _quarantined()
    client.force_login(admin_agent)

    response = client.post(
        "/admin/ingest/quarantinedmessage/",
        {"action": "reprocess", "_selected_action": [str(item.pk)]},
        follow=True,
    )

    item.refresh_from_db()
    assert response.status_code == 200
    assert item.message is not None
    assert f"is now a message on case {item.message.case_id}" in response.content.decode()


def test_non_staff_agent_cannot_download_raw_bytes(agent: Agent, client: Client) -> None:
    item = _quarantined()
    client.force_login(agent)

    response = client.get(f"/admin/ingest/quarantinedmessage/{item.pk}/raw/")

    assert response.status_code == 302
    assert BROKEN not in response.content


def test_quarantined_items_without_an_id_are_each_kept(db: None) -> None:
    quarantine(BROKEN, channel="email", source=inbound.MAILBOX, reason="unparseable")

    quarantine(BROKEN, channel="email", source=inbound.MAILBOX, reason="unparseable")

    assert QuarantinedMessage.objects.count() == 2


def test_admin_page_of_an_item_links_to_its_raw_bytes(admin_agent: Agent, client: Client) -> None:
    item = _quarantined()
    client.force_login(admin_agent)

    response = client.get(f"/admin/ingest/quarantinedmessage/{item.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f"/admin/ingest/quarantinedmessage/{item.pk}/raw/" in page
    assert f'<div class="readonly">{len(BROKEN)}</div>' in page


def test_admin_action_reports_an_item_that_still_fails(
    admin_agent: Agent, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsers, "_PARSERS", {})
    item = _quarantined()
    client.force_login(admin_agent)

    response = client.post(
        "/admin/ingest/quarantinedmessage/",
        {"action": "reprocess", "_selected_action": [str(item.pk)]},
        follow=True,
    )

    item.refresh_from_db()
    assert item.reprocessed_at is None
    assert f"Item {item.pk}: no parser is registered" in response.content.decode()


def test_staff_without_view_permission_cannot_download_raw_bytes(db: None, client: Client) -> None:
    staff = AgentFactory(email="staff@kiwidesk.test", is_staff=True)
    item = _quarantined()
    client.force_login(staff)

    response = client.get(f"/admin/ingest/quarantinedmessage/{item.pk}/raw/")

    assert response.status_code == 403


def test_admin_hands_a_body_its_handler_reads_back_to_the_worker(
    admin_agent: Agent, client: Client, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    handled: list[tuple[bytes, str]] = []
    monkeypatch.setattr(handlers, "_HANDLERS", {})
    handlers.register("whatsapp-webhook", lambda raw, source: handled.append((raw, source)))
    item = quarantine(b'{"entry": []}', channel="whatsapp", adapter="whatsapp-webhook",
                      source="whatsapp:106540352242922", reason="failed 5 times")  # fmt: skip
    client.force_login(admin_agent)

    with queue_commits(execute=True):
        response = client.post(
            "/admin/ingest/quarantinedmessage/",
            {"action": "reprocess", "_selected_action": [str(item.pk)]},
            follow=True,
        )

    item.refresh_from_db()
    assert f"Item {item.pk} was handed back to the worker." in response.content.decode()
    assert handled == [(b'{"entry": []}', "whatsapp:106540352242922")]
    assert item.reprocessed_at is not None


def test_a_body_whose_adapter_has_no_handler_is_left_quarantined(
    admin_agent: Agent, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "_HANDLERS", {})
    item = quarantine(b"{}", channel="whatsapp", adapter="gone-webhook", source="whatsapp:1",
                      reason="failed 5 times")  # fmt: skip
    client.force_login(admin_agent)

    response = client.post(
        "/admin/ingest/quarantinedmessage/",
        {"action": "reprocess", "_selected_action": [str(item.pk)]},
        follow=True,
    )

    item.refresh_from_db()
    assert item.reprocessed_at is None
    assert f"Item {item.pk}: no handler is registered" in response.content.decode()
