"""The case page's private side: masked personal data, reveal, break-glass, withheld notes."""

from __future__ import annotations

import pytest
from django.core import mail

from kiwidesk.accounts.models import Clearance, Role
from kiwidesk.cases import services
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Direction, EventKind, Message, Sensitivity
from kiwidesk.privacy.models import AuditRecord, BreakGlassGrant
from tests.factories.accounts import AgentFactory
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory

PHONE = "+44 20 7946 0958"
REASON = "Covering the clinical queue while the cleared agent is out sick"


def first_message(case) -> Message:
    return case.messages.get(direction=Direction.INBOUND)


@pytest.mark.django_db(databases="__all__")
def test_personal_data_is_masked_on_the_case_page_until_revealed(agent_client, agent):
    case = make_case(message_text=f"Please call me back on {PHONE} today.")
    message = first_message(case)

    page = agent_client.get(f"/cases/{case.pk}/").content.decode()

    assert PHONE not in page
    assert "[phone number]" in page
    revealed = agent_client.get(f"/cases/{case.pk}/messages/{message.pk}/reveal/?finding=0")
    assert revealed.status_code == 200
    assert PHONE in revealed.content.decode()
    record = AuditRecord.objects.get(action="pii.reveal", object_type="message")
    assert (record.object_id, record.reason, record.actor) == (str(message.pk), "phone #0", agent)


@pytest.mark.django_db(databases="__all__")
def test_reveal_all_shows_the_whole_message_and_is_audited(agent_client):
    case = make_case(message_text=f"Call {PHONE} please")
    message = first_message(case)

    revealed = agent_client.get(f"/cases/{case.pk}/messages/{message.pk}/reveal/")

    assert PHONE in revealed.content.decode()
    assert AuditRecord.objects.filter(action="pii.reveal", reason="all").count() == 1


@pytest.mark.django_db(databases="__all__")
def test_a_reveal_of_a_value_that_is_not_there_is_a_400(agent_client):
    case = make_case(message_text=f"Call {PHONE} please")
    message = first_message(case)

    for finding in ("7", "x"):
        response = agent_client.get(
            f"/cases/{case.pk}/messages/{message.pk}/reveal/?finding={finding}"
        )
        assert response.status_code == 400


@pytest.mark.django_db(databases="__all__")
def test_a_qa_reviewer_reads_masked_and_cannot_reveal_or_write(client):
    reviewer = AgentFactory(role=Role.QA)
    client.force_login(reviewer)
    case = make_case(message_text=f"Call {PHONE} please")
    message = first_message(case)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    revealed = client.get(f"/cases/{case.pk}/messages/{message.pk}/reveal/?finding=0")
    reply = client.post(
        f"/cases/{case.pk}/threads/{customer_thread(case).pk}/reply/", {"text": "Hello"}
    )

    assert "[phone number]" in page
    assert PHONE not in page
    assert "Reveal all" not in page
    assert "Add note" not in page
    assert revealed.status_code == 403
    assert PHONE not in revealed.content.decode()
    assert reply.status_code == 403
    assert "may not write to customers" in reply.content.decode()
    assert case.messages.count() == 1


@pytest.mark.django_db(databases="__all__")
def test_a_case_above_clearance_offers_break_glass_and_opens_after_it(
    agent_client, agent, team, django_capture_on_commit_callbacks
):
    AgentFactory(email="lead@kiwidesk.test", role=Role.LEAD, teams=[team])
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL, team=team, subject="Private matter")

    refused = agent_client.get(f"/cases/{case.pk}/")
    assert refused.status_code == 403
    assert "Private matter" not in refused.content.decode()
    assert "Break the glass" in refused.content.decode()

    short = agent_client.post(f"/cases/{case.pk}/break-glass/", {"reason": "need", "minutes": 30})
    assert short.status_code == 400
    assert "at least 10 characters" in short.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        opened = agent_client.post(
            f"/cases/{case.pk}/break-glass/", {"reason": REASON, "minutes": 30}, follow=True
        )

    page = opened.content.decode()
    assert opened.status_code == 200
    assert "Private matter" in page
    assert "Opened by break-glass" in page
    assert REASON in page
    assert mail.outbox[-1].to == ["lead@kiwidesk.test"]

    agent_client.post(f"/cases/{case.pk}/break-glass/end/")
    assert agent_client.get(f"/cases/{case.pk}/").status_code == 403
    assert BreakGlassGrant.objects.get().ended_at is not None


@pytest.mark.django_db(databases="__all__")
def test_a_clinical_note_is_withheld_from_an_agent_without_clinical_clearance(agent_client, agent):
    case = make_case()
    author = AgentFactory(clearance=Clearance.CLINICAL)
    services.add_note(author, case, text="Risk assessment: see plan", sensitivity="clinical")

    page = agent_client.get(f"/cases/{case.pk}/").content.decode()

    assert "Risk assessment" not in page
    assert "Withheld: this note is clinical" in page
    assert f"/cases/{case.pk}/break-glass/" in page


@pytest.mark.django_db(databases="__all__")
def test_an_agent_adds_a_confidential_note_and_cannot_add_a_clinical_one(agent_client, agent):
    agent.clearance = Clearance.CONFIDENTIAL
    agent.save()
    case = make_case()

    agent_client.post(
        f"/cases/{case.pk}/notes/", {"text": "Family matter", "sensitivity": "confidential"}
    )
    refused = agent_client.post(
        f"/cases/{case.pk}/notes/", {"text": "Diagnosis", "sensitivity": "clinical"}
    )

    note = case.messages.get(direction=Direction.NOTE)
    assert (note.body_text, note.sensitivity) == ("Family matter", "confidential")
    assert refused.status_code == 400
    assert "does not allow a note that sensitive" in refused.content.decode()


@pytest.mark.django_db(databases="__all__")
def test_marking_a_message_clinical_is_on_the_timeline(agent_client, agent):
    agent.clearance = Clearance.CONFIDENTIAL
    agent.save()
    case = make_case()
    message = first_message(case)

    agent_client.post(
        f"/cases/{case.pk}/messages/{message.pk}/sensitivity/", {"sensitivity": "confidential"}
    )
    refused = agent_client.post(
        f"/cases/{case.pk}/messages/{message.pk}/sensitivity/",
        {"sensitivity": "clinical"},
        follow=True,
    )

    message.refresh_from_db()
    assert message.sensitivity == "confidential"
    assert case.events.filter(kind=EventKind.MESSAGE_SENSITIVITY_CHANGED).count() == 1
    assert "does not allow a clinical case" in refused.content.decode()


@pytest.mark.django_db(databases="__all__")
def test_the_composer_warns_before_the_customers_phone_goes_to_a_third_party(agent_client, agent):
    case = make_case(message_text=f"Book it; my number is {PHONE}")
    restaurant = ContactFactory(is_third_party=True, email__value="bookings@restaurant.test")
    thread = services.open_thread(agent, case, contact=restaurant, channel="email")
    text = f"Table for four, the guest's number is {PHONE}"

    warned = agent_client.post(f"/cases/{case.pk}/threads/{thread.pk}/reply/", {"text": text})
    assert warned.status_code == 400
    assert "did not give us (phone number)" in warned.content.decode()
    assert "••••0958" in warned.content.decode()
    assert not thread.messages.exists()

    sent = agent_client.post(
        f"/cases/{case.pk}/threads/{thread.pk}/reply/", {"text": text, "confirm_pii": "yes"}
    )
    assert sent.status_code == 302
    assert thread.messages.get().body_text == text
    assert AuditRecord.objects.filter(action="pii.disclose", reason="phone").exists()


@pytest.mark.django_db(databases="__all__")
def test_an_unverified_clinical_agent_is_told_clinical_cases_are_hidden(client, clinical_agent):
    make_case(subject="Session notes lost", sensitivity=Sensitivity.CLINICAL)
    client.force_login(clinical_agent)

    page = client.get("/").content.decode()

    assert "Session notes lost" not in page
    assert "Clinical cases open only with two-factor authentication" in page


@pytest.mark.django_db(databases="__all__")
def test_the_attachment_of_a_withheld_note_does_not_download(agent_client, agent):
    case = make_case()
    author = AgentFactory(clearance=Clearance.CLINICAL)
    scan = NewAttachment("scan.txt", "text/plain", b"clinical letter")
    note = services.add_note(
        author, case, text="Letter attached", attachments=[scan], sensitivity="clinical"
    )

    response = agent_client.get(f"/cases/{case.pk}/attachments/{note.attachments.get().pk}/")

    assert response.status_code == 404
