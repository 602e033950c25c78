from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kiwidesk.cases.models import Direction, Message, Party, Sensitivity, Status, Thread
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory


def directions(case) -> list[str]:
    return list(Message.objects.filter(case=case).values_list("direction", flat=True))


@pytest.mark.django_db
def test_reply_to_the_customer_queues_an_outbound_message(agent_client, agent):
    case = make_case()
    thread = customer_thread(case)

    response = agent_client.post(
        f"/cases/{case.pk}/threads/{thread.pk}/reply/", {"text": "We are on it."}
    )

    message = thread.messages.get(direction=Direction.OUTBOUND)
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert (message.body_text, message.author_agent) == ("We are on it.", agent)


@pytest.mark.django_db
def test_reply_carries_its_attachments(agent_client):
    case = make_case()
    thread = customer_thread(case)
    upload = SimpleUploadedFile("itinerary.pdf", b"%PDF-1.7", content_type="application/pdf")

    agent_client.post(
        f"/cases/{case.pk}/threads/{thread.pk}/reply/", {"text": "", "attachments": [upload]}
    )

    message = thread.messages.get(direction=Direction.OUTBOUND)
    assert list(message.attachments.values_list("filename", "size")) == [("itinerary.pdf", 8)]


@pytest.mark.django_db
def test_empty_reply_is_shown_as_a_form_error(agent_client):
    case = make_case()
    thread = customer_thread(case)

    response = agent_client.post(f"/cases/{case.pk}/threads/{thread.pk}/reply/", {"text": "  "})

    assert response.status_code == 400
    assert b"a message needs text or an attachment" in response.content
    assert directions(case) == [Direction.INBOUND]


@pytest.mark.django_db
def test_refused_attachment_is_shown_as_a_form_error(agent_client):
    case = make_case()
    thread = customer_thread(case)
    upload = SimpleUploadedFile("invoice.exe", b"MZ", content_type="application/octet-stream")

    response = agent_client.post(
        f"/cases/{case.pk}/threads/{thread.pk}/reply/",
        {"text": "See attached", "attachments": [upload]},
    )

    assert response.status_code == 400
    assert b"invoice.exe is a type that could run code" in response.content
    assert b"See attached</textarea>" in response.content
    assert directions(case) == [Direction.INBOUND]


@pytest.mark.django_db
def test_reply_on_a_thread_of_another_case_is_not_found(agent_client):
    case = make_case()
    other = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/threads/{customer_thread(other).pk}/reply/", {"text": "Hello"}
    )

    assert response.status_code == 404
    assert directions(other) == [Direction.INBOUND]


@pytest.mark.django_db
def test_reply_on_a_case_above_clearance_is_refused_and_audited(agent_client):
    case = make_case(sensitivity=Sensitivity.CLINICAL)

    response = agent_client.post(
        f"/cases/{case.pk}/threads/{customer_thread(case).pk}/reply/", {"text": "Hello"}
    )

    assert response.status_code == 403
    assert "It froze again" not in response.content.decode()
    assert directions(case) == [Direction.INBOUND]
    assert AuditRecord.objects.get(object_id=str(case.pk)).outcome == AuditOutcome.DENIED


@pytest.mark.django_db
def test_internal_note_lands_on_the_internal_thread(agent_client):
    case = make_case()

    response = agent_client.post(f"/cases/{case.pk}/notes/", {"text": "Prefers a sea view."})

    note = Message.objects.get(case=case, direction=Direction.NOTE)
    assert response.status_code == 302
    assert (note.body_text, note.thread.party) == ("Prefers a sea view.", Party.INTERNAL)


@pytest.mark.django_db
def test_empty_note_is_shown_as_a_form_error(agent_client):
    case = make_case()

    response = agent_client.post(f"/cases/{case.pk}/notes/", {"text": ""})

    assert response.status_code == 400
    assert b"a message needs text or an attachment" in response.content
    assert directions(case) == [Direction.INBOUND]


@pytest.mark.django_db
def test_new_third_party_by_email_gets_a_thread_and_the_first_message(agent_client):
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/threads/",
        {
            "thread-name": "Harbour View Restaurant",
            "thread-email": "Bookings@HarbourView.example",
            "thread-channel": "email",
            "thread-text": "A table for six on Monday?",
        },
    )

    thread = case.threads.get(party=Party.THIRD_PARTY)
    assert response.status_code == 302
    assert (thread.contact.name, thread.contact.is_third_party) == ("Harbour View Restaurant", True)
    assert thread.contact.identities.get().value == "bookings@harbourview.example"
    assert list(thread.messages.values_list("body_text", flat=True)) == [
        "A table for six on Monday?"
    ]


@pytest.mark.django_db
def test_existing_third_party_can_be_picked(agent_client):
    case = make_case()
    vendor = ContactFactory(name="Sunset Grill", is_third_party=True)

    agent_client.post(
        f"/cases/{case.pk}/threads/", {"thread-contact": str(vendor.pk), "thread-channel": "phone"}
    )

    thread = case.threads.get(party=Party.THIRD_PARTY)
    assert (thread.contact, thread.channel, thread.messages.count()) == (vendor, "phone", 0)


@pytest.mark.django_db
def test_third_party_thread_needs_someone_to_talk_to(agent_client):
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/threads/", {"thread-name": "Nobody", "thread-channel": "phone"}
    )

    assert response.status_code == 400
    assert b"Choose a third party, or give an email or a phone number." in response.content
    assert case.threads.count() == 1


@pytest.mark.django_db
def test_third_party_phone_must_be_international(agent_client):
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/threads/",
        {"thread-name": "Grill", "thread-phone": "0123", "thread-channel": "phone"},
    )

    assert response.status_code == 400
    assert b"international form" in response.content
    assert Contact.objects.filter(name="Grill").count() == 0


@pytest.mark.django_db
def test_merge_moves_the_case_into_the_target(agent_client):
    source, target = make_case(), make_case()

    response = agent_client.post(f"/cases/{source.pk}/merge/", {"target": str(target.pk)})

    source.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{target.pk}/"
    assert (source.merged_into, source.status) == (target, Status.CLOSED)
    assert Thread.objects.filter(case=target).count() == 2


@pytest.mark.django_db
def test_merge_into_itself_is_refused_with_a_message(agent_client):
    case = make_case()

    response = agent_client.post(f"/cases/{case.pk}/merge/", {"target": str(case.pk)}, follow=True)

    case.refresh_from_db()
    assert b"Cannot merge: a case cannot be merged into itself." in response.content
    assert case.merged_into is None


@pytest.mark.django_db
def test_merge_into_a_case_the_agent_cannot_open_is_refused(agent_client):
    source = make_case()
    hidden = make_case(sensitivity=Sensitivity.CLINICAL)

    response = agent_client.post(
        f"/cases/{source.pk}/merge/", {"target": str(hidden.pk)}, follow=True
    )

    source.refresh_from_db()
    assert f"There is no case #{hidden.pk} you can open.".encode() in response.content
    assert source.merged_into is None


@pytest.mark.django_db
def test_merge_without_a_case_number_is_a_bad_request(agent_client):
    case = make_case()

    response = agent_client.post(f"/cases/{case.pk}/merge/", {"target": "abc"})

    case.refresh_from_db()
    assert response.status_code == 400
    assert b"Enter a whole number." in response.content
    assert case.merged_into is None


@pytest.mark.django_db
def test_merged_case_page_points_to_the_target(agent_client):
    source, target = make_case(), make_case()
    agent_client.post(f"/cases/{source.pk}/merge/", {"target": str(target.pk)})

    response = agent_client.get(f"/cases/{source.pk}/")

    assert f'merged into <a href="/cases/{target.pk}/">case #{target.pk}</a>'.encode() in (
        response.content
    )
