from __future__ import annotations

from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.ingest.models import Receipt
from kiwidesk.ingest.services import ingest
from tests.ingest import inbound


def test_admin_shows_a_receipt_read_only(admin_agent: Agent, client: Client) -> None:
    ingest(inbound.email(external_id="<seen@mail.example.org>"))
    receipt = Receipt.objects.get()
    client.force_login(admin_agent)

    response = client.get(f"/admin/ingest/receipt/{receipt.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f"&lt;seen@mail.example.org&gt; from {inbound.MAILBOX}" in page
    assert 'name="_save"' not in page
