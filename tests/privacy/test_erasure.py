from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import (
    Attachment,
    Call,
    Case,
    Event,
    EventKind,
    Message,
    OutboxItem,
)
from kiwidesk.cases.services import reply, update_case
from kiwidesk.contacts.models import Contact, Identity, IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.privacy.access import SubjectPurpose, SubjectRightsForbiddenError
from kiwidesk.privacy.audit import verify_chain
from kiwidesk.privacy.erasure import erase_contact
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from kiwidesk.privacy.subject_rights import erase_subject
from tests.factories.cases import make_case
from tests.privacy.story import ERASED_VALUES, NAME, configure, customer_writes_in_everywhere
from tests.privacy.whole_database import places_holding

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _channels(settings: Any) -> None:
    configure(settings)


def test_after_erasure_no_table_row_or_stored_file_holds_the_customers_details(
    client: Client, agent: Agent, admin_agent: Agent, team: Team
) -> None:
    story = customer_writes_in_everywhere(client, agent, team)
    assert len(places_holding(ERASED_VALUES)) > 20  # the search does find them before

    erase_subject(admin_agent, story.contact.pk)

    assert places_holding(ERASED_VALUES) == []


def test_erasure_keeps_the_rows_so_history_and_metrics_stay_whole(
    client: Client, agent: Agent, admin_agent: Agent, team: Team
) -> None:
    story = customer_writes_in_everywhere(client, agent, team)
    messages_before = list(
        Message.objects.order_by("pk").values_list("pk", "direction", "created_at")
    )
    events_before = list(Event.objects.order_by("pk").values_list("pk", "kind", "created_at"))

    erase_subject(admin_agent, story.contact.pk)

    assert (
        list(Message.objects.order_by("pk").values_list("pk", "direction", "created_at"))
        == messages_before
    )
    assert list(Event.objects.order_by("pk").values_list("pk", "kind", "created_at")) == (
        events_before
    )
    assert {message.body_text for message in Message.objects.all()} == {"[erased]"}
    assert Case.objects.get(pk=story.mail_case.pk).subject == "[erased]"
    contact = Contact.objects.get(pk=story.contact.pk)
    assert (contact.name, contact.notes, contact.identities.count()) == ("[erased]", "", 0)


def test_erased_attachments_keep_their_row_but_lose_name_and_file(
    client: Client, agent: Agent, admin_agent: Agent, team: Team
) -> None:
    story = customer_writes_in_everywhere(client, agent, team)
    attachment = Attachment.objects.get(message__case=story.mail_case)

    erase_subject(admin_agent, story.contact.pk)

    attachment.refresh_from_db()
    assert (attachment.filename, attachment.file.name, attachment.sha256) == ("[erased]", "", "")


def test_erased_call_loses_the_callers_number_and_transcript_but_keeps_its_duration(
    client: Client, agent: Agent, admin_agent: Agent, team: Team
) -> None:
    story = customer_writes_in_everywhere(client, agent, team)

    erase_subject(admin_agent, story.contact.pk)

    call = Call.objects.get(pk=story.call.pk)
    assert (call.from_number, call.transcript, call.duration_seconds) == (
        "[erased]",
        "[erased]",
        95,
    )


def test_a_reply_still_in_the_outbox_is_never_sent_after_erasure(
    admin_agent: Agent, agent: Agent, customer: Contact
) -> None:
    case = make_case(agent, customer=customer)
    pending = reply_to(agent, case)
    assert OutboxItem.objects.filter(message=pending).exists()

    erase_subject(admin_agent, customer.pk)

    pending.refresh_from_db()
    assert not OutboxItem.objects.filter(message=pending).exists()
    assert pending.delivery_status == "failed"


def test_erasing_twice_is_harmless(admin_agent: Agent, agent: Agent, customer: Contact) -> None:
    case = make_case(agent, customer=customer, subject="Private matter")
    erase_subject(admin_agent, customer.pk)

    summary = erase_subject(admin_agent, customer.pk)

    assert summary.files == 0
    assert Case.objects.get(pk=case.pk).subject == "[erased]"
    assert verify_chain().is_intact


def test_another_customers_case_is_left_alone(admin_agent: Agent, agent: Agent) -> None:
    erased = Contact.objects.create(name="Erased Person")
    kept = Contact.objects.create(name="Kept Person")
    make_case(agent, customer=erased, subject="Erase me")
    other = make_case(agent, customer=kept, subject="Keep me", message_text="Keep this text")

    erase_subject(admin_agent, erased.pk)

    other.refresh_from_db()
    assert other.subject == "Keep me"
    assert Message.objects.get(case=other).body_text == "Keep this text"
    assert Contact.objects.get(pk=kept.pk).name == "Kept Person"


def test_the_erasure_is_audited_by_contact_id_without_their_details(
    admin_agent: Agent, agent: Agent, customer: Contact
) -> None:
    make_case(agent, customer=customer)

    erase_subject(admin_agent, customer.pk)

    record = AuditRecord.objects.get(action=SubjectPurpose.ERASE)
    assert (record.object_type, record.object_id, record.outcome) == (
        "contact",
        str(customer.pk),
        AuditOutcome.GRANTED,
    )
    assert "messages=1" in record.reason
    assert "Customer Example" not in record.reason


@pytest.mark.parametrize("role", ["agent", "lead", "qa", "engineer"])
def test_only_administrators_may_erase(agent: Agent, customer: Contact, role: str) -> None:
    case = make_case(agent, customer=customer, subject="Private matter")
    Agent.objects.filter(pk=agent.pk).update(role=role)
    agent.refresh_from_db()

    with pytest.raises(SubjectRightsForbiddenError):
        erase_subject(agent, customer.pk)

    assert Case.objects.get(pk=case.pk).subject == "Private matter"
    assert Identity.objects.filter(contact=customer).count() == customer.identities.count()
    denied = AuditRecord.objects.get(action=SubjectPurpose.ERASE)
    assert (denied.outcome, denied.object_id) == (AuditOutcome.DENIED, str(customer.pk))


def test_a_subject_change_event_no_longer_copies_the_old_subject(
    admin_agent: Agent, agent: Agent, customer: Contact
) -> None:
    case = make_case(agent, customer=customer, subject=f"{NAME} asked")
    update_case(agent, case, {"subject": "Another subject"})

    erase_contact(customer)

    event = Event.objects.get(case=case, kind=EventKind.SUBJECT_CHANGED)
    assert event.payload == {"old": "[erased]", "new": "[erased]"}


def reply_to(agent: Agent, case: Case) -> Message:
    thread = case.threads.get(party="customer")
    return reply(agent, thread, text="We will call you back.")


def test_a_finished_task_that_recorded_the_address_is_forgotten(
    admin_agent: Agent, agent: Agent
) -> None:
    contact = find_or_create_contact(IdentityKind.EMAIL, "refused@example.org", name="Refused")
    make_case(agent, customer=contact)
    failed = DBTaskResult.objects.create(
        status=TaskResultStatus.FAILED,
        task_path="kiwidesk.cases.tasks.send_outbound",
        args_kwargs={"args": [1], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        priority=0,
        finished_at=timezone.now(),
        exception_class_path="kiwidesk.channels.common.DeliveryError",
        traceback="DeliveryError: 550 mailbox refused@example.org unavailable",
    )
    kept = DBTaskResult.objects.create(
        status=TaskResultStatus.SUCCESSFUL,
        task_path="kiwidesk.cases.tasks.send_outbound",
        args_kwargs={"args": [2], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        priority=0,
        finished_at=timezone.now(),
        return_value="sent",
    )

    erase_subject(admin_agent, contact.pk)

    assert not DBTaskResult.objects.filter(pk=failed.pk).exists()
    assert DBTaskResult.objects.filter(pk=kept.pk).exists()
