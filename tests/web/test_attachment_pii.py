"""The timeline says which attachments hold personal data, and of what kind."""

from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.cases.content import NewAttachment
from tests.factories.cases import make_case

CONTACTS = NewAttachment(
    "contacts.csv", "text/csv", b"name,phone,email\nJane Doe,07700 900123,jane.doe@example.org\n"
)
PLAN = NewAttachment("plan.txt", "text/plain", b"Restart the tablet, then sign in again.")

pytestmark = pytest.mark.django_db(databases="__all__")


def _attachment_items(html: str) -> list[str]:
    start = html.index('<ul class="attachments"')
    return html[start : html.index("</ul>", start)].split("<li>")[1:]


def test_an_attachment_with_personal_data_is_badged_with_its_kinds(agent_client: Client) -> None:
    case = make_case(attachments=[CONTACTS, PLAN])

    response = agent_client.get(f"/cases/{case.pk}/")

    contacts, plan = _attachment_items(response.content.decode())
    assert "contacts.csv" in contacts
    assert "contains personal data: email address, phone number" in contacts
    assert "plan.txt" in plan
    assert "contains personal data" not in plan
