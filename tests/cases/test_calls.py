"""Calls on a case's threads: logging, who waits for whom, recordings and transcripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import queries
from kiwidesk.cases.content import AttachmentRefusedError, NewAttachment
from kiwidesk.cases.models import (
    Call,
    CallOutcome,
    Case,
    Channel,
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    OutboxItem,
    Party,
    Status,
    Thread,
)
from kiwidesk.cases.services import (
    CALL_WITHOUT_NOTES,
    CallAlreadyLoggedError,
    CallDetails,
    CaseMergedError,
    MissingNumberError,
    NoPartyToCallError,
    add_note,
    attach_recording,
    attach_transcript,
    internal_thread,
    log_call,
    merge_cases,
    receive_message,
    record_call,
    reply,
    update_case,
)
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import InvalidIdentityError, find_or_create_contact
from tests.factories.cases import make_case, make_third_party_thread
from tests.factories.contacts import IdentityFactory

pytestmark = pytest.mark.django_db

CUSTOMER_NUMBER = "+447700900123"
SUPPORT_NUMBER = "+447700900999"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(24)


def phone_case(**fields: object) -> Case:
    customer = find_or_create_contact(IdentityKind.PHONE, CUSTOMER_NUMBER, name="Customer")
    return make_case(customer=customer, channel=Channel.SMS, **fields)


def first_thread(case: Case) -> Thread:
    """The customer's thread the case opened with (a call adds a phone thread beside it)."""
    return case.threads.order_by("id").first()  # type: ignore[return-value]


def outbound(outcome: str = CallOutcome.ANSWERED, **fields: object) -> CallDetails:
    return CallDetails(direction=Direction.OUTBOUND, outcome=outcome, **fields)  # type: ignore[arg-type]


def test_a_call_logged_on_an_sms_thread_goes_on_a_new_phone_thread_with_the_same_party(
    agent: Agent,
) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound(duration_seconds=95))

    thread = call.message.thread
    assert (thread.channel, thread.party, thread.contact_id) == (
        Channel.PHONE,
        Party.CUSTOMER,
        case.customer_id,
    )
    assert case.threads.filter(channel=Channel.PHONE).count() == 1
    assert Event.objects.filter(case=case, kind=EventKind.THREAD_OPENED).count() == 1


def test_a_second_call_reuses_the_phone_thread_of_that_party(agent: Agent) -> None:
    case = phone_case()
    first = log_call(agent, first_thread(case), details=outbound())

    second = log_call(agent, first_thread(case), details=outbound(CallOutcome.BUSY))

    assert second.message.thread_id == first.message.thread_id


def test_the_party_number_defaults_to_the_contacts_phone_in_e164(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound(our_number="+44 7700 900999"))

    assert (call.from_number, call.to_number) == (SUPPORT_NUMBER, CUSTOMER_NUMBER)


def test_an_inbound_call_is_from_the_party_to_us(agent: Agent) -> None:
    case = phone_case()
    details = CallDetails(
        direction=Direction.INBOUND, outcome=CallOutcome.ANSWERED, our_number=SUPPORT_NUMBER
    )

    call = log_call(agent, first_thread(case), details=details)

    assert (call.from_number, call.to_number) == (CUSTOMER_NUMBER, SUPPORT_NUMBER)
    assert call.message.author_contact == case.customer
    assert call.message.author_agent is None


def test_a_typed_number_is_stored_in_e164(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound(party_number="+44 (0)7700 900 456"))

    assert call.to_number == "+447700900456"


def test_a_number_that_is_not_one_is_refused_and_nothing_is_stored(agent: Agent) -> None:
    case = phone_case()

    with pytest.raises(InvalidIdentityError):
        log_call(agent, first_thread(case), details=outbound(party_number="call me maybe"))

    assert Call.objects.count() == 0
    assert case.threads.count() == 1


def test_a_party_without_a_number_needs_one_typed(agent: Agent) -> None:
    case = make_case()

    with pytest.raises(MissingNumberError, match="has no phone number on file"):
        log_call(agent, first_thread(case), details=outbound())

    assert Call.objects.count() == 0


def test_a_whatsapp_number_on_file_is_called_when_there_is_no_phone(agent: Agent) -> None:
    case = make_case()
    IdentityFactory(contact=case.customer, kind=IdentityKind.WHATSAPP, value=CUSTOMER_NUMBER)

    call = log_call(agent, first_thread(case), details=outbound())

    assert call.to_number == CUSTOMER_NUMBER


def test_notes_are_the_message_body_and_no_notes_say_so(agent: Agent) -> None:
    case = phone_case()

    with_notes = log_call(
        agent, first_thread(case), details=outbound(), notes="  Table for six at 20:00.  "
    )
    without = log_call(agent, first_thread(case), details=outbound(CallOutcome.NO_ANSWER))

    assert with_notes.message.body_text == "Table for six at 20:00."
    assert without.message.body_text == CALL_WITHOUT_NOTES


def test_an_outbound_call_is_never_queued_to_be_sent(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound())

    call.message.refresh_from_db()
    assert call.message.delivery_status == DeliveryStatus.NONE
    assert OutboxItem.objects.count() == 0


def test_a_call_logged_as_it_ends_started_its_duration_ago_and_shows_now(
    agent: Agent,
) -> None:
    case = phone_case()

    with time_machine.travel(NOON, tick=False):
        call = log_call(agent, first_thread(case), details=outbound(duration_seconds=300))

    assert call.started_at == NOON - timedelta(minutes=5)
    assert call.message.created_at == NOON


def test_a_call_with_a_given_start_is_dated_at_it(agent: Agent) -> None:
    case = phone_case()
    started = NOON - timedelta(days=2)

    call = log_call(agent, first_thread(case), details=outbound(started_at=started))

    assert call.started_at == started
    assert call.message.created_at == started


def test_logging_a_call_records_the_message_and_the_call_events(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound(duration_seconds=42))

    kinds = list(
        Event.objects.filter(case=case, message=call.message).values_list("kind", flat=True)
    )
    assert kinds == [EventKind.MESSAGE_SENT, EventKind.CALL_LOGGED]
    logged = Event.objects.get(kind=EventKind.CALL_LOGGED)
    assert logged.actor == agent
    assert logged.payload == {
        "direction": "outbound",
        "party": "customer",
        "outcome": "answered",
        "duration_seconds": 42,
        "reached_party": True,
    }


def test_a_third_party_call_is_logged_on_the_third_party_thread(agent: Agent) -> None:
    case = phone_case()
    vendor_thread = make_third_party_thread(agent, case)

    call = log_call(
        agent, vendor_thread, details=outbound(party_number="+12025550143"), notes="Booked."
    )

    assert call.message.thread_id == vendor_thread.pk
    assert call.message.thread.party == Party.THIRD_PARTY
    assert first_thread(case).messages.count() == 1


def test_the_internal_thread_cannot_take_a_call(agent: Agent) -> None:
    case = phone_case()
    notes = internal_thread(case, at=NOON)

    with pytest.raises(NoPartyToCallError):
        log_call(agent, notes, details=outbound())

    assert Call.objects.count() == 0


def test_a_provider_call_id_is_logged_once(agent: Agent) -> None:
    case = phone_case()
    details = outbound(source="twilio", provider_call_id="CA123")
    first = log_call(agent, first_thread(case), details=details)

    with pytest.raises(CallAlreadyLoggedError) as refused:
        log_call(agent, first_thread(case), details=details)

    assert refused.value.call == first
    assert Call.objects.count() == 1


def test_an_answered_outbound_call_means_we_wait_for_the_customer(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound())

    assert queries.last_directions(case)[call.message.thread_id] == Direction.OUTBOUND


def test_a_voicemail_left_means_we_wait_for_the_customer(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound(CallOutcome.VOICEMAIL))

    assert queries.last_directions(case)[call.message.thread_id] == Direction.OUTBOUND


@pytest.mark.parametrize(
    "outcome",
    [CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.FAILED, CallOutcome.CANCELED],
)
def test_an_unanswered_outbound_call_leaves_the_customer_waiting_for_us(
    agent: Agent, outcome: str
) -> None:
    case = phone_case()
    missed_inbound = log_call(
        agent,
        first_thread(case),
        details=CallDetails(direction=Direction.INBOUND, outcome=CallOutcome.NO_ANSWER),
    )

    log_call(agent, first_thread(case), details=outbound(outcome))

    assert queries.last_directions(case)[missed_inbound.message.thread_id] == Direction.INBOUND


def test_an_unanswered_outbound_call_alone_leaves_no_direction(agent: Agent) -> None:
    case = phone_case()

    call = log_call(agent, first_thread(case), details=outbound(CallOutcome.NO_ANSWER))

    assert call.message.thread_id not in queries.last_directions(case)


def test_an_inbound_call_wakes_a_case_pending_on_the_customer(agent: Agent) -> None:
    case = phone_case()
    update_case(agent, case, {"status": Status.PENDING_CUSTOMER})

    log_call(
        agent,
        first_thread(case),
        details=CallDetails(direction=Direction.INBOUND, outcome=CallOutcome.VOICEMAIL),
    )

    case.refresh_from_db()
    assert case.status == Status.OPEN


def test_an_outbound_call_takes_a_new_case_out_of_the_new_pile(agent: Agent) -> None:
    case = phone_case()

    log_call(agent, first_thread(case), details=outbound(CallOutcome.NO_ANSWER))

    case.refresh_from_db()
    assert case.status == Status.OPEN


def test_record_call_makes_an_ingested_message_the_call_once(agent: Agent) -> None:
    case = phone_case()
    message = receive_message(first_thread(case), text=CALL_WITHOUT_NOTES)
    details = CallDetails(
        direction=Direction.INBOUND,
        outcome=CallOutcome.ANSWERED,
        party_number=CUSTOMER_NUMBER,
        our_number=SUPPORT_NUMBER,
        duration_seconds=61,
        source="twilio",
        provider_call_id="CA9",
    )

    first = record_call(message, details=details)
    again = record_call(message, details=details)

    assert again == first
    assert (first.from_number, first.to_number, first.duration_seconds) == (
        CUSTOMER_NUMBER,
        SUPPORT_NUMBER,
        61,
    )
    assert first.started_at == message.created_at - timedelta(seconds=61)
    assert Event.objects.filter(kind=EventKind.CALL_LOGGED).count() == 1


def test_a_recording_is_stored_content_addressed_on_the_calls_message(agent: Agent) -> None:
    case = phone_case()
    call = log_call(agent, first_thread(case), details=outbound())
    recording = NewAttachment("RE1.wav", "audio/wav", WAV)

    attach_recording(call, recording=recording, recording_sid="RE1", at=NOON)

    call.refresh_from_db()
    assert call.recording is not None
    assert call.recording.message_id == call.message_id
    assert (call.recording.content_type, call.recording.size) == ("audio/wav", len(WAV))
    assert call.recording.file.name.endswith(call.recording.sha256)
    assert call.recording.file.read() == WAV
    event = Event.objects.get(kind=EventKind.RECORDING_ATTACHED)
    assert event.payload == {
        "recording_sid": "RE1",
        "attachment_id": call.recording.pk,
        "size": len(WAV),
    }


def test_the_same_recording_delivered_twice_is_attached_once(agent: Agent) -> None:
    case = phone_case()
    call = log_call(agent, first_thread(case), details=outbound())
    recording = NewAttachment("RE1.wav", "audio/wav", WAV)
    attach_recording(call, recording=recording, recording_sid="RE1")

    attach_recording(call, recording=recording, recording_sid="RE1")

    assert call.message.attachments.count() == 1
    assert Event.objects.filter(kind=EventKind.RECORDING_ATTACHED).count() == 1


def test_a_recording_over_the_size_limit_is_refused(agent: Agent, settings: object) -> None:
    settings.KIWIDESK_MAX_ATTACHMENT_BYTES = 10  # type: ignore[attr-defined]
    case = phone_case()
    call = log_call(agent, first_thread(case), details=outbound())

    with pytest.raises(AttachmentRefusedError):
        attach_recording(
            call, recording=NewAttachment("RE1.wav", "audio/wav", WAV), recording_sid="RE1"
        )

    call.refresh_from_db()
    assert call.recording is None
    assert call.message.attachments.count() == 0


def test_a_transcript_is_kept_once(agent: Agent) -> None:
    case = phone_case()
    call = log_call(agent, first_thread(case), details=outbound())

    attach_transcript(call, text=" The table is booked for six. ", at=NOON)
    attach_transcript(call, text="The table is booked for six.", at=NOON)

    call.refresh_from_db()
    assert call.transcript == "The table is booked for six."
    event = Event.objects.get(kind=EventKind.TRANSCRIPT_ATTACHED)
    assert event.payload == {"characters": 28}


def test_case_calls_lists_the_calls_of_every_thread_oldest_first(agent: Agent) -> None:
    case = phone_case()
    vendor_thread = make_third_party_thread(agent, case)
    first = log_call(
        agent, first_thread(case), details=outbound(started_at=NOON - timedelta(hours=1))
    )
    second = log_call(
        agent, vendor_thread, details=outbound(party_number="+12025550143", started_at=NOON)
    )
    reply(agent, first_thread(case), text="Booked.")
    add_note(agent, case, text="Done.")

    assert list(queries.case_calls(case)) == [first, second]


def test_a_call_on_a_merged_case_thread_is_refused(agent: Agent) -> None:
    source, target = phone_case(), make_case()
    thread = Thread.objects.get(case=source)
    merge_cases(agent, source=source, target=target)
    thread.case = source  # a stale thread object from before the merge

    with pytest.raises(CaseMergedError):
        log_call(agent, thread, details=outbound())


def test_a_provider_call_id_taken_at_the_last_moment_is_refused_cleanly(agent: Agent) -> None:
    case = phone_case()
    details = outbound(source="twilio", provider_call_id="CA7")
    first = log_call(agent, first_thread(case), details=details)
    # What a racing callback finds: its own message, stored before the id was taken.
    racing = receive_message(first_thread(case), text=CALL_WITHOUT_NOTES)

    with pytest.raises(CallAlreadyLoggedError) as refused:
        record_call(racing, details=details)

    assert refused.value.call == first
    assert Call.objects.count() == 1
