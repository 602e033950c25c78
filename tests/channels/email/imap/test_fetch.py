from __future__ import annotations

import threading

import pytest

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Case, Message
from kiwidesk.channels.email import imap
from kiwidesk.channels.email.models import Mailbox
from kiwidesk.ingest.models import QuarantinedMessage
from tests.channels.email.imap import mail
from tests.channels.email.imap.dovecot import Dovecot
from tests.channels.email.mail import raw


def test_appended_mail_becomes_a_case_of_the_mailbox_team(
    mailbox: Mailbox, dovecot_server: Dovecot, team: Team
) -> None:
    mail.append(dovecot_server, mailbox.username, [mail.mail(1)])

    summary = imap.fetch_mailbox(mailbox)

    assert str(summary) == "Support: 1 fetched, 1 stored, 0 duplicates, 0 quarantined"
    case = Case.objects.get()
    assert (case.subject, case.team) == ("Question 1", team)
    assert case.messages.get().external_id == "imap-1@mail.example.com"


def test_fetching_twice_stores_the_mail_once(mailbox: Mailbox, dovecot_server: Dovecot) -> None:
    mail.append(dovecot_server, mailbox.username, [mail.mail(1), mail.mail(2)])
    imap.fetch_mailbox(mailbox)

    summary = imap.fetch_mailbox(mailbox)

    assert str(summary) == "Support: 0 fetched, 0 stored, 0 duplicates, 0 quarantined"
    assert Message.objects.count() == 2


def test_the_next_fetch_reads_only_mail_that_arrived_since(
    mailbox: Mailbox, dovecot_server: Dovecot
) -> None:
    mail.append(dovecot_server, mailbox.username, [mail.mail(1)])
    imap.fetch_mailbox(mailbox)
    mail.append(dovecot_server, mailbox.username, [mail.mail(2)])

    summary = imap.fetch_mailbox(mailbox)

    assert (summary.fetched, summary.stored) == (1, 1)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2


def test_fetching_leaves_the_mail_unread_on_the_server(
    mailbox: Mailbox, dovecot_server: Dovecot
) -> None:
    mail.append(dovecot_server, mailbox.username, [mail.mail(1)])

    imap.fetch_mailbox(mailbox)

    with mail.client(dovecot_server, mailbox.username) as client:
        client.select_folder("INBOX", readonly=True)
        assert (client.search("ALL"), client.search("UNSEEN")) == ([1], [1])


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(
    mailbox: Mailbox, dovecot_server: Dovecot
) -> None:
    with mail.client(dovecot_server, mailbox.username) as client:
        client.create_folder("Support")
    mailbox.folder = "Support"
    mail.append(dovecot_server, mailbox.username, [mail.mail(1)], folder="Support")
    imap.fetch_mailbox(mailbox)
    old_uidvalidity = mailbox.uidvalidity
    with mail.client(dovecot_server, mailbox.username) as client:
        client.delete_folder("Support")
        client.create_folder("Support")
    mail.append(dovecot_server, mailbox.username, [mail.mail(1), mail.mail(2)], folder="Support")

    summary = imap.fetch_mailbox(mailbox)

    assert (summary.fetched, summary.stored, summary.duplicates) == (2, 1, 1)
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != old_uidvalidity
    assert Message.objects.count() == 2


def test_a_wrong_password_is_recorded_on_the_mailbox(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(mailbox.password_env, "not-the-password")

    summary = imap.fetch_mailbox(mailbox)

    mailbox.refresh_from_db()
    assert mailbox.last_error == (
        f"the server refused the login of {mailbox.username} on 127.0.0.1 "
        "([AUTHENTICATIONFAILED] Authentication failed.); "
        "check the password in $KIWIDESK_TEST_IMAP_PASSWORD"
    )
    assert summary.error == mailbox.last_error
    assert mailbox.last_checked_at is not None


def test_a_missing_password_variable_is_recorded_on_the_mailbox(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(mailbox.password_env)

    imap.fetch_mailbox(mailbox)

    mailbox.refresh_from_db()
    assert mailbox.last_error == (
        "the environment variable KIWIDESK_TEST_IMAP_PASSWORD (the password) is not set"
    )


def test_a_good_fetch_clears_the_last_error(mailbox: Mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="the server did not answer")
    mailbox.refresh_from_db()

    imap.fetch_mailbox(mailbox)

    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_unparseable_mail_is_quarantined_and_the_mail_after_it_is_stored(
    mailbox: Mailbox, dovecot_server: Dovecot
) -> None:
    unparseable = raw("no_sender.eml").replace(b"\n", b"\r\n")  # as IMAP stores it
    mail.append(dovecot_server, mailbox.username, [unparseable, mail.mail(2)])

    summary = imap.fetch_mailbox(mailbox)

    assert (summary.stored, summary.quarantined) == (1, 1)
    quarantined = QuarantinedMessage.objects.get()
    assert (quarantined.source, bytes(quarantined.raw)) == (mailbox.source, unparseable)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2


def test_mail_landing_just_before_idle_is_found_when_idle_is_renewed(
    mailbox: Mailbox, dovecot_server: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap, "IDLE_RENEW_SECONDS", 0.5)
    with imap.connect(mailbox) as client:
        imap.fetch_new(client, mailbox)
        mail.append(dovecot_server, mailbox.username, [mail.mail(1)])

        imap.idle(client, threading.Event())
        summary = imap.fetch_new(client, mailbox)

    assert summary.stored == 1
