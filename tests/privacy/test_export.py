from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import Sensitivity
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.access import (
    SubjectNotFoundError,
    SubjectPurpose,
    SubjectRightsForbiddenError,
)
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from kiwidesk.privacy.subject_rights import export_subject
from tests.factories.cases import make_case, make_third_party_thread
from tests.privacy.story import EMAIL, NAME, PHONE, configure, customer_writes_in_everywhere

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _channels(settings: Any) -> None:
    configure(settings)


@pytest.fixture
def story_export(client: Client, agent: Agent, admin_agent: Agent, team: Team) -> dict[str, Any]:
    story = customer_writes_in_everywhere(client, agent, team)
    return export_subject(admin_agent, story.contact.pk)


def test_the_export_names_the_contact_their_addresses_and_organisation(
    story_export: dict[str, Any],
) -> None:
    contact = story_export["contact"]

    assert story_export["format"] == "kiwidesk.contact-export/1"
    assert contact["name"] == NAME
    assert sorted((i["kind"], i["value"]) for i in contact["identities"]) == [
        ("email", EMAIL),
        ("phone", PHONE),
        ("whatsapp", PHONE),
    ]
    assert contact["organisation"]["name"] == "Harbourside Clinic"


def test_the_export_holds_every_message_on_every_channel(story_export: dict[str, Any]) -> None:
    messages = [m for case in story_export["cases"] for m in case["messages"]]
    bodies = [m["body_text"] for m in messages]

    assert any(f"Call me on {PHONE}" in body for body in bodies)  # the mail
    assert f"{NAME} here, is my booking on?" in bodies  # the SMS
    assert f"WhatsApp from {NAME}" in bodies
    assert f"Hi, it is {NAME} again" in bodies  # the web chat
    assert f"Dear {NAME}, your refund is on its way." in bodies  # the agent's reply
    assert {m["direction"] for m in messages} == {"inbound", "outbound", "note"}


def test_the_export_carries_attachment_content_base64_encoded(
    story_export: dict[str, Any],
) -> None:
    attachments = [
        a for case in story_export["cases"] for m in case["messages"] for a in m["attachments"]
    ]

    assert [a["filename"] for a in attachments] == ["quartermaine-passport.txt"]
    assert base64.b64decode(attachments[0]["content_base64"]) == f"Passport of {NAME}\n".encode()


def test_the_export_holds_calls_chats_templates_and_events(story_export: dict[str, Any]) -> None:
    calls = [m["call"] for case in story_export["cases"] for m in case["messages"] if m["call"]]
    kinds = {e["kind"] for case in story_export["cases"] for e in case["events"]}

    assert [(c["from_number"], c["duration_seconds"]) for c in calls] == [(PHONE, 95)]
    assert calls[0]["transcript"] == f"Caller: This is {NAME}, my number is {PHONE}."
    assert [s["email"] for s in story_export["chat_sessions"]] == [EMAIL]
    assert story_export["whatsapp_templates"][0]["parameters"] == [NAME, "BK-4417"]
    assert {"case_opened", "message_received", "subject_changed", "call_logged"} <= kinds


def test_the_export_is_one_json_document(story_export: dict[str, Any]) -> None:
    assert json.loads(json.dumps(story_export)) == story_export


def test_on_someone_elses_case_only_the_contacts_own_thread_is_exported(
    agent: Agent, admin_agent: Agent, customer: Contact
) -> None:
    case = make_case(agent, customer=customer, message_text="The customer's own words")
    thread = make_third_party_thread(agent, case, name="Harbour View Restaurant")
    vendor = thread.contact
    assert vendor is not None

    document = export_subject(admin_agent, vendor.pk)

    (exported,) = document["cases"]
    assert (exported["role"], exported["subject"]) == ("party", None)
    assert [t["id"] for t in exported["threads"]] == [thread.pk]
    assert exported["messages"] == []


def test_a_clinical_case_is_exported_whole_and_the_audit_says_so(
    agent: Agent, admin_agent: Agent, customer: Contact
) -> None:
    make_case(agent, customer=customer, sensitivity=Sensitivity.CLINICAL, message_text="Clinical")

    document = export_subject(admin_agent, customer.pk)

    assert document["cases"][0]["messages"][0]["body_text"] == "Clinical"
    record = AuditRecord.objects.get(action=SubjectPurpose.EXPORT)
    assert (record.object_id, record.outcome) == (str(customer.pk), AuditOutcome.GRANTED)
    assert "clinical=1" in record.reason


def test_an_agent_may_not_export_and_the_refusal_is_audited(
    agent: Agent, customer: Contact
) -> None:
    with pytest.raises(SubjectRightsForbiddenError):
        export_subject(agent, customer.pk)

    record = AuditRecord.objects.get(action=SubjectPurpose.EXPORT)
    assert (record.outcome, record.object_id) == (AuditOutcome.DENIED, str(customer.pk))


def test_exporting_a_missing_contact_says_so(admin_agent: Agent) -> None:
    with pytest.raises(SubjectNotFoundError, match="No contact #999"):
        export_subject(admin_agent, 999)
