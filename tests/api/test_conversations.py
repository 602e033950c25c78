"""Threads, replies, notes, messages and the timeline of a case through the API."""

from __future__ import annotations

from typing import Any

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.models import Attachment, Case, Thread
from kiwidesk.contacts.models import Contact
from tests.api.conftest import ApiClient, b64
from tests.factories.cases import customer_thread, make_case, make_third_party_thread
from tests.factories.contacts import ContactFactory


def test_messages_lists_every_thread_of_the_case_oldest_first(
    api: ApiClient, case: Case, agent: Agent
) -> None:
    vendor = make_third_party_thread(agent, case, channel="phone")
    services.reply(agent, vendor, text="Table for four, Monday 8 pm?", html="<p>Table?</p>")

    response = api.get(f"/cases/{case.pk}/messages")

    first, second = response.json()
    assert response.status_code == 200
    assert {key: first[key] for key in ("thread_id", "party", "direction", "text")} == {
        "thread_id": customer_thread(case).pk,
        "party": "customer",
        "direction": "inbound",
        "text": "It froze again during my session this morning.",
    }
    assert first["author"] == {
        "kind": "contact",
        "id": case.customer_id,
        "name": case.customer.name,
    }
    assert {key: second[key] for key in ("thread_id", "party", "channel", "html")} == {
        "thread_id": vendor.pk,
        "party": "third_party",
        "channel": "phone",
        "html": "<p>Table?</p>",
    }
    assert (second["direction"], second["delivery_status"]) == ("outbound", "pending")
    assert second["author"] == {"kind": "agent", "id": agent.pk, "name": "Agent One"}


def test_a_reply_with_an_attachment_is_stored_pending_on_its_thread(
    api: ApiClient, case: Case
) -> None:
    thread = customer_thread(case)
    body = {
        "text": "Could you send the steps?",
        "attachments": [
            {
                "filename": "guide.pdf",
                "content_type": "application/pdf",
                "content_base64": b64(b"%PDF"),
            }
        ],
    }

    response = api.post(f"/threads/{thread.pk}/messages", body)

    message = response.json()
    assert response.status_code == 201
    assert (message["thread_id"], message["direction"], message["delivery_status"]) == (
        thread.pk,
        "outbound",
        "pending",
    )
    assert [
        {key: item[key] for key in ("filename", "content_type", "size")}
        for item in message["attachments"]
    ] == [{"filename": "guide.pdf", "content_type": "application/pdf", "size": 4}]
    assert Attachment.objects.get().file.read() == b"%PDF"


def test_a_note_with_an_attachment_lands_on_the_internal_thread(api: ApiClient, case: Case) -> None:
    body = {
        "text": "Reproduced on the staging build.",
        "attachments": [{"filename": "screen.png", "content_base64": b64(b"\x89PNG")}],
    }

    response = api.post(f"/cases/{case.pk}/notes", body)

    note = response.json()
    assert response.status_code == 201
    assert (note["party"], note["channel"], note["direction"]) == ("internal", "internal", "note")
    assert note["attachments"][0]["filename"] == "screen.png"
    assert Case.objects.get(pk=case.pk).status == "open"


def test_a_thread_with_a_new_third_party_creates_the_contact(api: ApiClient, case: Case) -> None:
    body = {"contact": {"name": "Harbour View Restaurant", "phone": "+1 268 555 0199"}}

    response = api.post(f"/cases/{case.pk}/threads", body)

    thread = response.json()
    vendor = Contact.objects.get(name="Harbour View Restaurant")
    assert response.status_code == 201
    assert (thread["party"], thread["channel"], thread["contact"]) == (
        "third_party",
        "phone",
        {"id": vendor.pk, "name": "Harbour View Restaurant"},
    )
    assert vendor.is_third_party is True


def test_a_thread_with_a_known_contact_uses_the_channel_asked_for(
    api: ApiClient, case: Case
) -> None:
    vendor = ContactFactory(name="Island Clinic", is_third_party=True)

    response = api.post(f"/cases/{case.pk}/threads", {"contact_id": vendor.pk, "channel": "sms"})

    assert response.status_code == 201
    assert Thread.objects.get(pk=response.json()["id"]).contact == vendor
    assert response.json()["channel"] == "sms"


def test_threads_lists_each_party_with_its_message_count(
    api: ApiClient, case: Case, agent: Agent
) -> None:
    vendor = make_third_party_thread(agent, case)
    services.add_note(agent, case, text="Called them.")

    response = api.get(f"/cases/{case.pk}/threads")

    assert [(t["id"], t["party"], t["message_count"]) for t in response.json()] == [
        (customer_thread(case).pk, "customer", 1),
        (vendor.pk, "third_party", 0),
        (Thread.objects.get(case=case, party="internal").pk, "internal", 1),
    ]


def test_replying_on_the_internal_thread_is_refused(
    api: ApiClient, case: Case, agent: Agent
) -> None:
    note = services.add_note(agent, case, text="Internal only.")

    response = api.post(f"/threads/{note.thread_id}/messages", {"text": "Hello?"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "The internal thread has no party to write to; add a note instead."
    }
    assert case.messages.count() == 2


def test_events_include_the_timeline_of_cases_merged_in(
    api: ApiClient, case: Case, agent: Agent
) -> None:
    duplicate = make_case(subject="Duplicate")
    services.merge_cases(agent, source=duplicate, target=case)

    response = api.get(f"/cases/{case.pk}/events")

    kinds = [(event["case_id"], event["kind"]) for event in response.json()]
    assert kinds == [
        (case.pk, "case_opened"),
        (case.pk, "message_received"),
        (duplicate.pk, "case_opened"),
        (duplicate.pk, "message_received"),
        (duplicate.pk, "merged_into"),
        (case.pk, "case_merged"),
        (duplicate.pk, "status_changed"),
    ]
    assert response.json()[5]["payload"] == {
        "source_id": duplicate.pk,
        "source_subject": "Duplicate",
    }
    assert response.json()[5]["actor"] == {"id": agent.pk, "name": "Agent One"}


def test_the_timeline_costs_the_same_queries_however_long(
    api: ApiClient, case: Case, agent: Agent, django_assert_max_num_queries: Any
) -> None:
    thread = customer_thread(case)
    for number in range(40):
        services.reply(agent, thread, text=f"Update {number}")
    api.get(f"/cases/{case.pk}/events")

    # Seven: the audit record reads the chain's head, and on PostgreSQL takes its lock first.
    with django_assert_max_num_queries(7):
        events = api.get(f"/cases/{case.pk}/events")
    with django_assert_max_num_queries(7):
        messages = api.get(f"/cases/{case.pk}/messages")

    assert (len(events.json()), len(messages.json())) == (43, 41)
