from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Attachment, Case, Event, Message, Sensitivity, Status
from kiwidesk.cases.services import add_note, merge_cases, update_case
from kiwidesk.contacts.models import Contact, Organisation
from kiwidesk.privacy import tasks
from kiwidesk.privacy.models import AuditRecord, RetentionAction, RetentionPolicy
from kiwidesk.privacy.retention import due_cases, policy_for, run_retention
from tests.factories.cases import make_case
from tests.privacy.story import ERASED_VALUES, configure, customer_writes_in_everywhere
from tests.privacy.whole_database import places_holding

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)
RECENTLY = NOW - timedelta(days=10)


def closed_case(
    agent: Agent,
    *,
    closed_at: datetime,
    customer: Contact | None = None,
    sensitivity: str = Sensitivity.NORMAL,
    subject: str = "Lost booking of Mr Example",
) -> Case:
    case = make_case(
        agent,
        customer=customer,
        subject=subject,
        message_text="My card ends 4242",
        sensitivity=sensitivity,
        at=closed_at - timedelta(days=1),
    )
    update_case(agent, case, {"status": Status.CLOSED}, at=closed_at)
    case.refresh_from_db()
    return case


def policy(
    action: str = RetentionAction.ANONYMISE,
    *,
    after_days: int = 365,
    sensitivity: str = Sensitivity.NORMAL,
    organisation: Organisation | None = None,
    is_active: bool = True,
) -> RetentionPolicy:
    return RetentionPolicy.objects.create(
        sensitivity=sensitivity,
        action=action,
        after_days=after_days,
        organisation=organisation,
        is_active=is_active,
    )


def test_a_closed_case_past_its_days_is_anonymised_and_its_history_kept(agent: Agent) -> None:
    case = closed_case(agent, closed_at=LONG_AGO)
    events = Event.objects.filter(case=case).count()
    policy()

    run = run_retention(now=NOW)

    case.refresh_from_db()
    assert (run.anonymised, run.deleted) == (1, 0)
    assert case.subject == "[erased]"
    assert [m.body_text for m in Message.objects.filter(case=case)] == ["[erased]"]
    assert Event.objects.filter(case=case).count() == events


def test_a_case_closed_recently_is_kept(agent: Agent) -> None:
    case = closed_case(agent, closed_at=RECENTLY)
    policy()

    run = run_retention(now=NOW)

    case.refresh_from_db()
    assert run.anonymised == 0
    assert case.subject == "Lost booking of Mr Example"


def test_an_open_case_is_kept_however_old(agent: Agent) -> None:
    case = make_case(agent, subject="Still open", at=LONG_AGO)
    policy(after_days=1)

    run_retention(now=NOW)

    case.refresh_from_db()
    assert case.subject == "Still open"


def test_a_delete_policy_removes_the_case_and_its_files(agent: Agent) -> None:
    case = closed_case(agent, closed_at=LONG_AGO)
    note = add_note(
        agent,
        case,
        text="Scan attached",
        attachments=[NewAttachment("scan.txt", "text/plain", b"retention scan")],
    )
    stored = Attachment.objects.get(message=note).file.name
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)
    policy(RetentionAction.DELETE)

    run = run_retention(now=NOW)

    assert run.deleted == 1
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not default_storage.exists(stored)


def test_a_customer_with_no_other_case_is_erased_with_it(agent: Agent, customer: Contact) -> None:
    closed_case(agent, closed_at=LONG_AGO, customer=customer)
    policy()

    run = run_retention(now=NOW)

    customer.refresh_from_db()
    assert run.contacts == 1
    assert (customer.name, customer.identities.count()) == ("[erased]", 0)


def test_a_customer_with_another_case_stays(agent: Agent, customer: Contact) -> None:
    closed_case(agent, closed_at=LONG_AGO, customer=customer)
    make_case(agent, customer=customer, subject="A newer question")
    policy()

    run = run_retention(now=NOW)

    customer.refresh_from_db()
    assert run.contacts == 0
    assert customer.name == "Customer Example"


def test_the_organisations_own_policy_wins_over_the_general_one(agent: Agent) -> None:
    clinic = Organisation.objects.create(name="Harbourside Clinic")
    theirs = closed_case(
        agent, closed_at=LONG_AGO, customer=Contact.objects.create(organisation=clinic)
    )
    others = closed_case(agent, closed_at=LONG_AGO)
    general = policy(after_days=30)
    specific = policy(after_days=3650, organisation=clinic)

    run = run_retention(now=NOW)

    theirs.refresh_from_db()
    others.refresh_from_db()
    assert policy_for(theirs) == specific
    assert policy_for(others) == general
    assert run.anonymised == 1
    assert (theirs.subject, others.subject) == ("Lost booking of Mr Example", "[erased]")


def test_an_inactive_organisation_policy_leaves_its_cases_to_the_general_one(
    agent: Agent,
) -> None:
    clinic = Organisation.objects.create(name="Harbourside Clinic")
    theirs = closed_case(
        agent, closed_at=LONG_AGO, customer=Contact.objects.create(organisation=clinic)
    )
    policy(after_days=30)
    policy(after_days=3650, organisation=clinic, is_active=False)

    run_retention(now=NOW)

    theirs.refresh_from_db()
    assert theirs.subject == "[erased]"


def test_a_policy_covers_only_its_own_sensitivity(agent: Agent) -> None:
    clinical = closed_case(agent, closed_at=LONG_AGO, sensitivity=Sensitivity.CLINICAL)
    policy(sensitivity=Sensitivity.NORMAL)

    run_retention(now=NOW)

    clinical.refresh_from_db()
    assert clinical.subject == "Lost booking of Mr Example"


def test_an_anonymised_case_is_not_anonymised_again(agent: Agent) -> None:
    closed_case(agent, closed_at=LONG_AGO)
    anonymising = policy()
    run_retention(now=NOW)

    second = run_retention(now=NOW + timedelta(days=1))

    assert second.anonymised == 0
    assert list(due_cases(anonymising, now=NOW)) == []


def test_a_dry_run_changes_nothing_and_writes_no_audit(agent: Agent) -> None:
    case = closed_case(agent, closed_at=LONG_AGO)
    policy(RetentionAction.DELETE)

    run = run_retention(now=NOW, is_dry_run=True)

    assert run.deleted == 1
    assert Case.objects.filter(pk=case.pk).exists()
    assert not AuditRecord.objects.filter(action__startswith="retention.").exists()


def test_each_run_is_audited_with_its_counts(agent: Agent) -> None:
    case = closed_case(agent, closed_at=LONG_AGO)
    policy()

    run_retention(now=NOW)

    run_record = AuditRecord.objects.get(action="retention.run")
    assert run_record.reason == "anonymised=1 deleted=0 contacts=1"
    case_record = AuditRecord.objects.get(action="case.anonymise")
    assert case_record.object_id == str(case.pk)


def test_a_merged_case_is_deleted_with_the_case_it_went_into(agent: Agent) -> None:
    customer = Contact.objects.create(name="Merged Customer")
    source = make_case(agent, customer=customer, subject="First", at=LONG_AGO)
    target = make_case(agent, customer=customer, subject="Second", at=LONG_AGO)
    merge_cases(agent, source=source, target=target)
    update_case(agent, target, {"status": Status.CLOSED}, at=LONG_AGO + timedelta(hours=1))
    policy(RetentionAction.DELETE)

    run_retention(now=NOW)

    assert not Case.objects.filter(pk__in=[source.pk, target.pk]).exists()


def test_the_worker_start_runs_retention_at_once_without_a_deferring_backend(
    agent: Agent, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = closed_case(agent, closed_at=timezone.now() - timedelta(days=400))
    policy(after_days=1)

    tasks.start()

    case.refresh_from_db()
    assert case.subject == "[erased]"


def test_worker_starts_queue_one_daily_run_however_often_they_start(db: None) -> None:
    tasks.start()
    tasks.start()

    queued = DBTaskResult.objects.filter(
        task_path=tasks.run_retention.module_path, status=TaskResultStatus.READY
    )
    assert queued.count() == 1


def test_a_run_queues_the_next_one_a_day_later(db: None) -> None:
    before = timezone.now()

    tasks.run_retention.call()

    queued = DBTaskResult.objects.get(task_path=tasks.run_retention.module_path)
    assert queued.run_after is not None
    assert queued.run_after >= before + tasks.RUN_EVERY


def test_anonymising_every_case_of_a_customer_leaves_nothing_of_them_anywhere(
    client: Client, agent: Agent, team: Team, settings: Any
) -> None:
    configure(settings)
    story = customer_writes_in_everywhere(client, agent, team)
    for case in Case.objects.filter(customer=story.contact):
        update_case(agent, case, {"status": Status.CLOSED})
    policy(after_days=30)

    run = run_retention(now=timezone.now() + timedelta(days=31))

    assert (run.anonymised, run.contacts) == (Case.objects.count(), 1)
    assert places_holding(ERASED_VALUES) == []


def test_a_deleted_cases_customer_with_an_anonymised_case_is_erased_not_deleted(
    agent: Agent, customer: Contact
) -> None:
    closed_case(agent, closed_at=LONG_AGO, customer=customer)
    clinical = closed_case(
        agent, closed_at=LONG_AGO, customer=customer, sensitivity=Sensitivity.CLINICAL
    )
    policy(RetentionAction.ANONYMISE)
    policy(RetentionAction.DELETE, sensitivity=Sensitivity.CLINICAL)

    run = run_retention(now=NOW)

    customer.refresh_from_db()
    assert (run.anonymised, run.deleted, run.contacts) == (1, 1, 1)
    assert not Case.objects.filter(pk=clinical.pk).exists()
    assert customer.name == "[erased]"


def test_a_customer_whose_only_case_is_deleted_is_deleted_too(
    agent: Agent, customer: Contact
) -> None:
    closed_case(agent, closed_at=LONG_AGO, customer=customer)
    policy(RetentionAction.DELETE)

    run_retention(now=NOW)

    assert not Contact.objects.filter(pk=customer.pk).exists()
