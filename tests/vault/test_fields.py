from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.models import Call, CallOutcome, Direction, Message
from kiwidesk.vault.cipher import MissingKeyError
from tests.factories.cases import customer_thread, make_case
from tests.vault.keys import KEY_A, KEY_B

SECRET = "My NHS number is 943 476 5919 and my card 4111 1111 1111 1111."


def _stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


@pytest.fixture(autouse=True)
def _key_a(settings: Any) -> None:
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_A


def test_a_message_body_is_ciphertext_in_the_database_and_plaintext_on_screen(
    agent: Agent,
) -> None:
    case = make_case(agent, message_text=SECRET)

    message = case.messages.get()

    assert message.body_text == SECRET
    stored = _stored("cases_message", "body_text", message.pk)
    assert stored.startswith("kv1:a:")
    assert "943 476" not in stored


def test_a_reply_with_html_seals_both_bodies(agent: Agent) -> None:
    case = make_case(agent)

    reply = services.reply(agent, customer_thread(case), text=SECRET, html=f"<p>{SECRET}</p>")

    assert _stored("cases_message", "body_text", reply.pk).startswith("kv1:a:")
    assert _stored("cases_message", "body_html", reply.pk).startswith("kv1:a:")
    assert Message.objects.get(pk=reply.pk).body_html == f"<p>{SECRET}</p>"


def test_a_call_transcript_is_sealed(agent: Agent) -> None:
    case = make_case(agent)
    call = services.log_call(
        agent,
        customer_thread(case),
        details=services.CallDetails(
            direction=Direction.OUTBOUND, outcome=CallOutcome.ANSWERED, party_number="+447700900123"
        ),
    )

    services.attach_transcript(call, text=SECRET)

    assert _stored("cases_call", "transcript", call.pk).startswith("kv1:a:")
    assert Call.objects.get(pk=call.pk).transcript == SECRET


def test_an_empty_body_stays_empty_and_filterable(agent: Agent) -> None:
    case = make_case(agent)

    assert list(Message.objects.filter(full_text="").values_list("case_id", flat=True)) == [case.pk]


def test_a_row_stored_before_encryption_reads_as_plaintext(agent: Agent) -> None:
    message = make_case(agent).messages.get()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_message SET body_text = %s WHERE id = %s", ["old", message.pk])

    assert Message.objects.get(pk=message.pk).body_text == "old"


def test_an_update_query_seals_the_new_value(agent: Agent) -> None:
    message = make_case(agent).messages.get()

    Message.objects.filter(pk=message.pk).update(body_text=SECRET)

    assert _stored("cases_message", "body_text", message.pk).startswith("kv1:a:")
    assert Message.objects.get(pk=message.pk).body_text == SECRET


def test_a_substring_search_on_a_sealed_column_is_refused(agent: Agent) -> None:
    make_case(agent, message_text=SECRET)

    with pytest.raises(FieldError, match="icontains"):
        Message.objects.filter(body_text__icontains="943").count()


def test_a_message_under_a_key_no_longer_configured_names_the_key(
    agent: Agent, settings: Any
) -> None:
    message = make_case(agent, message_text=SECRET).messages.get()
    settings.KIWIDESK_ENCRYPTION_KEYS = KEY_B

    with pytest.raises(MissingKeyError, match="'a'"):
        Message.objects.get(pk=message.pk)
