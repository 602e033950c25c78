from __future__ import annotations

import pytest

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import Case, Channel, Event, EventKind, Party, Status
from kiwidesk.contacts.models import Contact, IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.ingest.contract import Sender
from kiwidesk.ingest.services import IngestResult, UnroutableMessageError, ingest
from tests.ingest import inbound

FIRST = "<first@mail.example.org>"
VENDOR = "bookings@harbour-view.example.com"


def _first_mail() -> IngestResult:
    return ingest(inbound.email(external_id=FIRST))


def _vendor_thread_with_outbound(agent: Agent, case: Case) -> tuple[int, str]:
    """Open an email thread with a third party and send them a message; return ids."""
    vendor = find_or_create_contact(IdentityKind.EMAIL, VENDOR, is_third_party=True)
    thread = cases.open_thread(agent, case, contact=vendor, channel=Channel.EMAIL)
    sent = cases.reply(agent, thread, text="Could you confirm the table for four?")
    sent.external_id = "<outbound-1@kiwidesk.test>"
    sent.save(update_fields=["external_id"])
    return thread.pk, sent.external_id


def test_reply_by_in_reply_to_lands_on_the_customer_thread(db: None) -> None:
    first = _first_mail()

    reply = ingest(inbound.email(external_id="<second@mail.example.org>", in_reply_to=FIRST))

    assert reply.created_case is False
    assert reply.case == first.case
    assert reply.thread == first.thread
    assert reply.thread.party == Party.CUSTOMER


def test_third_party_answer_lands_on_the_third_party_thread(db: None, agent: Agent) -> None:
    first = _first_mail()
    vendor_thread_id, outbound_id = _vendor_thread_with_outbound(agent, first.case)

    answer = ingest(
        inbound.email(VENDOR, external_id="<vendor-answer@harbour-view.example.com>",
                      in_reply_to=outbound_id, subject="Re: your booking")
    )  # fmt: skip

    assert answer.case == first.case
    assert answer.thread.pk == vendor_thread_id
    assert answer.thread.party == Party.THIRD_PARTY


def test_third_party_replying_to_the_customers_mail_stays_on_its_own_thread(
    db: None, agent: Agent
) -> None:
    first = _first_mail()
    vendor_thread_id, _ = _vendor_thread_with_outbound(agent, first.case)

    answer = ingest(
        inbound.email(VENDOR, external_id="<vendor-cc@harbour-view.example.com>",
                      in_reply_to=FIRST)
    )  # fmt: skip

    assert answer.thread.pk == vendor_thread_id


def test_references_find_the_case_when_in_reply_to_is_unknown(db: None) -> None:
    first = _first_mail()

    reply = ingest(
        inbound.email(
            external_id="<third@mail.example.org>",
            in_reply_to="<never-stored@elsewhere.example>",
            references=(FIRST, "<never-stored@elsewhere.example>"),
        )
    )

    assert reply.case == first.case


def test_reply_token_routes_to_its_thread_from_any_address(db: None) -> None:
    first = _first_mail()
    token = first.thread.reply_token

    reply = ingest(
        inbound.email("customer.at.home@example.net", external_id="<t@mail.example.net>",
                      subject="Re: hello", reply_token=token.upper())
    )  # fmt: skip

    assert reply.case == first.case
    assert reply.thread == first.thread


def test_subject_token_from_the_customer_routes_to_the_case(db: None) -> None:
    first = _first_mail()

    reply = ingest(
        inbound.email(external_id="<s@mail.example.org>", subject=f"Re: [#{first.case.pk}] froze")
    )

    assert reply.case == first.case
    assert reply.thread == first.thread


def test_kd_subject_token_is_understood(db: None) -> None:
    first = _first_mail()

    reply = ingest(
        inbound.email(external_id="<k@mail.example.org>", subject=f"[KD-{first.case.pk}] again")
    )

    assert reply.case == first.case


def test_forged_subject_token_from_a_stranger_opens_a_new_case(db: None) -> None:
    first = _first_mail()

    forged = ingest(
        inbound.email("stranger@example.com", external_id="<x@example.com>",
                      subject=f"Re: [#{first.case.pk}] let me in")
    )  # fmt: skip

    assert forged.created_case is True
    assert forged.case != first.case
    assert first.case.messages.count() == 1


def test_new_mail_from_a_known_contact_opens_a_new_case_and_suggests_a_merge(db: None) -> None:
    first = _first_mail()

    second = ingest(
        inbound.email(external_id="<new-topic@mail.example.org>", subject="Another question")
    )

    assert second.created_case is True
    assert second.case != first.case
    assert second.case.customer == first.case.customer
    assert second.suggested_merge == first.case
    suggestion = Event.objects.get(case=second.case, kind=EventKind.MERGE_SUGGESTED)
    assert suggestion.payload == {
        "other_case_id": first.case.pk,
        "other_subject": first.case.subject,
    }


def test_new_mail_from_a_contact_without_open_cases_suggests_nothing(db: None) -> None:
    result = _first_mail()

    assert result.suggested_merge is None
    assert Event.objects.filter(kind=EventKind.MERGE_SUGGESTED).count() == 0


def test_reply_to_a_solved_case_reopens_it(db: None) -> None:
    first = _first_mail()
    cases.update_case(None, first.case, {"status": Status.SOLVED})

    reply = ingest(inbound.email(external_id="<again@mail.example.org>", in_reply_to=FIRST))

    assert reply.case == first.case
    assert Case.objects.get(pk=first.case.pk).status == Status.OPEN


def test_reply_to_a_closed_case_opens_a_new_case_linked_to_it(db: None) -> None:
    first = _first_mail()
    cases.update_case(None, first.case, {"status": Status.CLOSED})

    reply = ingest(inbound.email(external_id="<late@mail.example.org>", in_reply_to=FIRST))

    assert reply.created_case is True
    assert reply.case != first.case
    assert Case.objects.get(pk=first.case.pk).status == Status.CLOSED
    link = Event.objects.get(case=reply.case, kind=EventKind.FOLLOWS_CLOSED_CASE)
    assert link.payload["closed_case_id"] == first.case.pk


def test_reply_to_a_merged_case_lands_on_the_merge_target(db: None) -> None:
    first = _first_mail()
    target = ingest(inbound.email(external_id="<other@mail.example.org>", subject="Other"))
    cases.merge_cases(None, source=first.case, target=target.case)

    reply = ingest(inbound.email(external_id="<after-merge@mail.example.org>", in_reply_to=FIRST))

    assert reply.case == target.case
    assert reply.thread == first.thread


def test_forwarded_mail_keeps_the_original_sender_as_customer(db: None, agent: Agent) -> None:
    forwarded = inbound.email(
        agent.email,
        external_id="<fwd@kiwidesk.test>",
        subject="Fwd: my booking",
        forwarded_from=Sender(kind=IdentityKind.EMAIL, value="customer@example.org"),
    )

    result = ingest(forwarded)

    customer = Contact.objects.get(identities__value="customer@example.org")
    assert result.case.customer == customer
    assert result.message.author_contact == customer
    note = result.case.messages.get(thread__party=Party.INTERNAL)
    assert note.author_agent == agent
    assert note.body_text == (
        f"Forwarded in by {agent} from {agent.email}; the original sender is the customer."
    )


def test_forward_from_someone_who_is_not_an_agent_keeps_the_sender(db: None) -> None:
    forwarded = inbound.email(
        "customer@example.org",
        forwarded_from=Sender(kind=IdentityKind.EMAIL, value="friend@example.net"),
    )

    result = ingest(forwarded)

    assert result.case.customer.identities.get().value == "customer@example.org"


def test_colleague_copied_on_the_mail_replies_into_the_customer_thread(db: None) -> None:
    first = _first_mail()

    reply = ingest(
        inbound.email("colleague@example.org", external_id="<cc@mail.example.org>",
                      in_reply_to=FIRST)
    )  # fmt: skip

    assert reply.thread == first.thread
    assert reply.message.author_contact.identities.get().value == "colleague@example.org"


def test_answer_referring_to_a_note_lands_on_the_customer_thread(db: None, agent: Agent) -> None:
    first = _first_mail()
    note = cases.add_note(agent, first.case, text="Checked the logs.")
    note.external_id = "<note@kiwidesk.test>"
    note.save(update_fields=["external_id"])

    reply = ingest(
        inbound.email("colleague@example.org", external_id="<n@mail.example.org>",
                      in_reply_to="<note@kiwidesk.test>")
    )  # fmt: skip

    assert reply.thread == first.thread


def test_reply_to_unknown_message_ids_opens_a_new_case(db: None) -> None:
    first = _first_mail()

    reply = ingest(
        inbound.email("someone@example.net", external_id="<u@mail.example.net>",
                      in_reply_to="<never-stored@elsewhere.example>")
    )  # fmt: skip

    assert reply.created_case is True
    assert reply.case != first.case


def test_subject_token_of_a_case_that_does_not_exist_opens_a_new_case(db: None) -> None:
    result = ingest(inbound.email(subject="Re: [#987654] anyone?"))

    assert result.created_case is True
    assert result.case.subject == "Re: [#987654] anyone?"


def test_subject_token_of_a_merged_case_lands_on_the_merge_target(db: None) -> None:
    first = _first_mail()
    target = ingest(inbound.email(external_id="<other@mail.example.org>", subject="Other"))
    cases.merge_cases(None, source=first.case, target=target.case)

    reply = ingest(
        inbound.email(external_id="<tok@mail.example.org>", subject=f"Re: [#{first.case.pk}]")
    )

    assert reply.case == target.case


def test_forward_with_an_unusable_original_sender_is_refused(db: None, agent: Agent) -> None:
    forwarded = inbound.email(
        agent.email, forwarded_from=Sender(kind=IdentityKind.EMAIL, value="no address here")
    )

    with pytest.raises(UnroutableMessageError, match="unusable sender"):
        ingest(forwarded)

    assert Case.objects.count() == 0


def test_reply_token_of_a_third_party_thread_routes_to_that_thread(db: None, agent: Agent) -> None:
    first = _first_mail()
    vendor_thread_id, _ = _vendor_thread_with_outbound(agent, first.case)
    token = first.case.threads.get(pk=vendor_thread_id).reply_token

    answer = ingest(
        inbound.email(VENDOR, external_id="<tok@harbour-view.example.com>", reply_token=token)
    )

    assert answer.thread.pk == vendor_thread_id
    assert token != first.thread.reply_token


def test_a_new_case_goes_to_the_team_of_the_mailbox(db: None) -> None:
    from tests.factories.accounts import TeamFactory

    concierge = TeamFactory(name="Concierge", slug="concierge")

    result = ingest(inbound.email(subject="Table for six in Antigua"), team=concierge)

    assert result.case.team == concierge
