from __future__ import annotations

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Channel, Party, Status
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import add_identity, find_or_create_contact
from kiwidesk.ingest.services import ingest
from tests.ingest import inbound


def test_second_sms_continues_the_open_conversation(db: None) -> None:
    first = ingest(inbound.sms(external_id="SM0001"))

    second = ingest(inbound.sms(external_id="SM0002", text="Hello?"))

    assert second.created_case is False
    assert second.case == first.case
    assert second.thread == first.thread


def test_whatsapp_message_continues_the_open_whatsapp_conversation(db: None) -> None:
    first = ingest(inbound.whatsapp(external_id="wamid.0001"))

    second = ingest(inbound.whatsapp(external_id="wamid.0002"))

    assert second.case == first.case
    assert second.thread == first.thread


def test_first_sms_opens_a_case_on_the_sms_channel(db: None) -> None:
    result = ingest(inbound.sms())

    assert result.created_case is True
    assert result.case.channel == Channel.SMS
    assert result.thread.channel == Channel.SMS
    assert result.case.subject == "Is my booking still on?"


def test_sms_after_the_case_was_solved_opens_a_new_case(db: None) -> None:
    first = ingest(inbound.sms(external_id="SM0001"))
    cases.update_case(None, first.case, {"status": Status.SOLVED})

    second = ingest(inbound.sms(external_id="SM0002"))

    assert second.created_case is True
    assert Case.objects.get(pk=first.case.pk).status == Status.SOLVED


def test_sms_from_another_number_opens_its_own_case(db: None) -> None:
    first = ingest(inbound.sms("+447700900123", external_id="SM0001"))

    other = ingest(inbound.sms("+447700900999", external_id="SM0002"))

    assert other.created_case is True
    assert other.case != first.case


def test_sms_goes_to_the_most_recent_open_conversation(db: None) -> None:
    ingest(inbound.sms(external_id="SM0001"))
    later = ingest(inbound.email("someone@example.org"))
    newest = cases.open_case(
        None, customer=ingest(inbound.sms(external_id="SM0002")).case.customer,
        subject="Second topic", message_text="New topic", channel=Channel.SMS,
    )  # fmt: skip

    routed = ingest(inbound.sms(external_id="SM0003"))

    assert later.case != newest
    assert routed.case == newest


def test_third_party_sms_lands_on_its_thread_not_the_customers(db: None, agent: Agent) -> None:
    case = ingest(inbound.email()).case
    vendor = find_or_create_contact(IdentityKind.PHONE, "+442079460000", is_third_party=True)
    vendor_thread = cases.open_thread(agent, case, contact=vendor, channel=Channel.SMS)

    answer = ingest(inbound.sms("+442079460000", text="Table for four is confirmed."))

    assert answer.case == case
    assert answer.thread == vendor_thread
    assert answer.thread.party == Party.THIRD_PARTY


def test_sms_from_a_customer_with_an_open_email_case_opens_a_case_and_suggests_a_merge(
    db: None,
) -> None:
    email_case = ingest(inbound.email()).case
    add_identity(email_case.customer, IdentityKind.PHONE, "+447700900123")

    result = ingest(inbound.sms("+447700900123"))

    assert result.created_case is True
    assert result.suggested_merge == email_case
