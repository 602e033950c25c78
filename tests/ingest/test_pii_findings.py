"""Every stored message carries the personal data found in its text, whichever way it came."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.db import connection

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Message
from kiwidesk.ingest.batch import ingest_many
from kiwidesk.ingest.prestore import prestore
from kiwidesk.ingest.services import ingest
from tests.factories.cases import customer_thread, make_case
from tests.ingest import inbound
from tests.vault.keys import KEY_A

TEXT = (
    "Please call me on 07700 900123 or write to jane.doe@example.org. "
    "My card is 4111 1111 1111 1111."
)
FINDINGS = [["phone", 18, 30], ["email", 43, 63], ["payment_card", 76, 95]]

pytestmark = pytest.mark.django_db


def _values(message: Message) -> list[str]:
    return [message.body_text[start:end] for _, start, end in message.pii]


def test_an_inbound_mail_stores_what_personal_data_its_text_holds() -> None:
    result = ingest(inbound.email(text=TEXT))

    stored = Message.objects.get(pk=result.message.pk)
    assert stored.pii == FINDINGS
    assert _values(stored) == ["07700 900123", "jane.doe@example.org", "4111 1111 1111 1111"]


def test_a_batch_stores_the_same_findings_as_one_by_one_ingest() -> None:
    messages = [
        inbound.email(f"customer{n}@example.org", external_id=f"<{n}@mail>", text=text)
        for n, text in enumerate([TEXT, "Nothing personal here.", TEXT])
    ]

    outcomes = ingest_many(messages)

    stored = Message.objects.filter(pk__in=[o.message.pk for o in outcomes])  # type: ignore[union-attr]
    assert [m.pii for m in stored.order_by("pk")] == [FINDINGS, [], FINDINGS]


def test_a_message_without_personal_data_has_no_findings() -> None:
    result = ingest(inbound.sms(text="Is my booking still on?"))

    assert Message.objects.get(pk=result.message.pk).pii == []


def test_an_agent_reply_is_scanned_as_well(agent: Agent) -> None:
    case = make_case(agent)

    reply = cases.reply(agent, customer_thread(case), text=TEXT)

    assert Message.objects.get(pk=reply.pk).pii == FINDINGS


def test_an_internal_note_is_scanned_as_well(agent: Agent) -> None:
    case = make_case(agent)

    note = cases.add_note(agent, case, text="Her date of birth is 04/07/1961, per the GP.")

    assert [kind for kind, _, _ in Message.objects.get(pk=note.pk).pii] == ["date_of_birth"]


def test_the_batch_seals_message_bodies_like_one_by_one_ingest(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_A
    outcomes = ingest_many([inbound.email(text=TEXT)])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body_text FROM cases_message WHERE id = %s",
            [outcomes[0].message.pk],  # type: ignore[union-attr]
        )
        (stored,) = cursor.fetchone()
    assert stored.startswith("kv1:a:")
    assert Message.objects.get(pk=outcomes[0].message.pk).body_text == TEXT  # type: ignore[union-attr]


def test_a_parse_worker_finds_the_personal_data_ahead_of_the_writer() -> None:
    prepared = prestore(inbound.email(text=TEXT, raw=b"From: customer@example.org\r\n\r\n"))

    assert prepared.pii == tuple(tuple(finding) for finding in FINDINGS)


def test_the_writer_stores_the_findings_made_ahead() -> None:
    # Findings a worker made are trusted as they are: the writer does not look again.
    ahead = replace(inbound.email(text=TEXT), pii=(("email", 0, 6),))

    outcomes = ingest_many([ahead])

    assert Message.objects.get(pk=outcomes[0].message.pk).pii == [["email", 0, 6]]  # type: ignore[union-attr]
