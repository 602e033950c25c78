"""The API says which kinds of personal data a message's attachments hold."""

from __future__ import annotations

import pytest

from kiwidesk.cases.content import NewAttachment
from tests.api.conftest import ApiClient
from tests.factories.cases import make_case

CONTACTS = NewAttachment(
    "contacts.csv", "text/csv", b"name,phone,email\nJane Doe,07700 900123,jane.doe@example.org\n"
)
LOGO = NewAttachment("logo.png", "image/png", b"\x89PNG jane.doe@example.org")

pytestmark = pytest.mark.django_db(databases="__all__")


def test_listed_attachments_name_the_kinds_of_personal_data_they_hold(api: ApiClient) -> None:
    case = make_case(attachments=[CONTACTS, LOGO])

    response = api.get(f"/cases/{case.pk}/messages")

    [message] = response.json()
    assert response.status_code == 200
    assert [(a["filename"], a["pii_types"]) for a in message["attachments"]] == [
        ("contacts.csv", ["email", "phone"]),
        ("logo.png", []),
    ]
