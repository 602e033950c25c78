"""`kiwidesk privacy`: export and erase a contact, run retention, from the command line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case, Status
from kiwidesk.cases.services import update_case
from kiwidesk.cli import main
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.privacy.models import AuditRecord, RetentionPolicy
from tests.factories.cases import make_case

pytestmark = pytest.mark.django_db

EMAIL = "subject@example.org"


@pytest.fixture
def subject(agent: Agent) -> Contact:
    contact = find_or_create_contact(IdentityKind.EMAIL, EMAIL, name="Data Subject")
    make_case(agent, customer=contact, subject="Private matter", message_text="My own words")
    return contact


def test_export_prints_the_contacts_json(subject: Contact, capsys: pytest.CaptureFixture[str]):
    code = main(["privacy", "export", EMAIL])

    out = capsys.readouterr().out
    document = json.loads(out)
    assert code == 0
    assert document["contact"]["name"] == "Data Subject"
    assert document["cases"][0]["messages"][0]["body_text"] == "My own words"
    assert AuditRecord.objects.get(action="contact.export").actor_label == ""


def test_export_of_an_unknown_address_is_a_one_line_error(
    db: None, capsys: pytest.CaptureFixture[str]
):
    code = main(["privacy", "export", "nobody@example.org"])

    assert code == 1
    assert capsys.readouterr().err == (
        "kiwidesk: error: No contact has the address nobody@example.org.\n"
    )


def test_export_of_a_malformed_address_is_a_one_line_error(
    db: None, capsys: pytest.CaptureFixture[str]
):
    code = main(["privacy", "export", "not an address"])

    assert code == 1
    assert "is not an email address" in capsys.readouterr().err


def test_erase_with_yes_erases_and_says_what_it_changed(
    subject: Contact, capsys: pytest.CaptureFixture[str]
):
    code = main(["privacy", "erase", EMAIL, "--yes"])

    assert code == 0
    assert capsys.readouterr().out.startswith(f"Erased contact #{subject.pk}: cases=1 messages=1")
    assert Case.objects.get(customer=subject).subject == "[erased]"


def test_erase_asks_and_goes_ahead_when_the_address_is_typed_again(
    subject: Contact, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("builtins.input", lambda prompt: EMAIL)

    code = main(["privacy", "erase", EMAIL])

    assert code == 0
    assert Case.objects.get(customer=subject).subject == "[erased]"


def test_erase_without_confirmation_changes_nothing(
    subject: Contact, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    code = main(["privacy", "erase", EMAIL])

    assert code == 1
    assert "Not confirmed: nothing was erased." in capsys.readouterr().err
    assert Case.objects.get(customer=subject).subject == "Private matter"
    assert not AuditRecord.objects.filter(action="contact.erase").exists()


def test_retention_run_prints_what_each_policy_did(
    agent: Agent, subject: Contact, capsys: pytest.CaptureFixture[str]
):
    case = Case.objects.get(customer=subject)
    update_case(agent, case, {"status": Status.CLOSED}, at=timezone.now() - timedelta(days=40))
    RetentionPolicy.objects.create(sensitivity="normal", action="anonymise", after_days=30)

    code = main(["privacy", "retention", "run"])

    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "Normal cases of any organisation: anonymise after 30 days: anonymised 1 case",
        "anonymised=1 deleted=0 contacts=1",
    ]


def test_retention_dry_run_changes_nothing(
    agent: Agent, subject: Contact, capsys: pytest.CaptureFixture[str]
):
    case = Case.objects.get(customer=subject)
    update_case(agent, case, {"status": Status.CLOSED}, at=timezone.now() - timedelta(days=40))
    RetentionPolicy.objects.create(sensitivity="normal", action="delete", after_days=30)

    code = main(["privacy", "retention", "run", "--dry-run"])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Dry run, nothing changed: anonymised=0 deleted=1 contacts=0"
    )
    assert Case.objects.filter(pk=case.pk).exists()


def test_retention_run_without_policies_says_so(db: None, capsys: pytest.CaptureFixture[str]):
    code = main(["privacy", "retention", "run"])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[0] == "No active retention policies."
