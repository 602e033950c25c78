"""The call log on the case page: the form per thread, calls in the timeline, the player."""

from __future__ import annotations

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Call, CallOutcome, Case, Channel, Direction
from kiwidesk.cases.services import (
    CallDetails,
    attach_recording,
    attach_transcript,
    log_call,
    merge_cases,
)
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.privacy.models import AuditRecord
from tests.factories.cases import customer_thread, make_case, make_third_party_thread

pytestmark = pytest.mark.django_db

CUSTOMER_NUMBER = "+447700900123"
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(112)  # 128 bytes


@pytest.fixture
def phone_case(agent: Agent) -> Case:
    customer = find_or_create_contact(IdentityKind.PHONE, CUSTOMER_NUMBER, name="Customer")
    return make_case(agent, customer=customer, channel=Channel.SMS)


def recorded_call(agent: Agent, case: Case) -> Call:
    call = log_call(
        agent,
        case.threads.get(channel=Channel.SMS),
        details=CallDetails(
            direction=Direction.INBOUND, outcome=CallOutcome.ANSWERED, duration_seconds=185
        ),
        notes="Asked to move the booking to Tuesday.",
    )
    return attach_recording(
        call, recording=NewAttachment("RE1.wav", "audio/wav", WAV), recording_sid="RE1"
    )


def call_form(**fields: str) -> dict[str, str]:
    return {
        "direction": "outbound",
        "number": "",
        "duration": "4:30",
        "outcome": "answered",
        "notes": "Confirmed Monday at 20:00.",
        **fields,
    }


def test_the_log_a_call_form_starts_with_the_partys_number(
    agent_client: Client, phone_case: Case
) -> None:
    response = agent_client.get(f"/cases/{phone_case.pk}/")

    thread = customer_thread(phone_case)
    assert response.status_code == 200
    assert (
        f'id="call-number-{thread.pk}" maxlength="40" value="{CUSTOMER_NUMBER}"'
        in response.content.decode()
    )


def test_an_agent_logs_a_call_and_sees_it_in_the_timeline(
    agent_client: Client, phone_case: Case
) -> None:
    thread = customer_thread(phone_case)

    response = agent_client.post(
        f"/cases/{phone_case.pk}/threads/{thread.pk}/calls/", call_form(), follow=True
    )

    call = Call.objects.get()
    assert (call.duration_seconds, call.outcome, call.to_number) == (
        270,
        "answered",
        CUSTOMER_NUMBER,
    )
    page = response.content.decode()
    assert "Call with Customer logged." in page
    assert f'<div class="call" id="call-{call.pk}">' in page
    assert "Confirmed Monday at 20:00." in page
    assert f"Call to {CUSTOMER_NUMBER}" in page
    assert '<span class="call-duration" title="Duration">4:30</span>' in page


def test_a_call_with_a_third_party_is_logged_on_their_thread(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    vendor = make_third_party_thread(agent, phone_case)

    agent_client.post(
        f"/cases/{phone_case.pk}/threads/{vendor.pk}/calls/",
        call_form(number="+1 202 555 0143", outcome="voicemail"),
    )

    call = Call.objects.select_related("message").get()
    assert call.message.thread_id == vendor.pk
    assert call.to_number == "+12025550143"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"duration": "four minutes"}, "Give the duration as minutes:seconds, e.g. 4:30."),
        ({"number": "call me"}, "is not an E.164 phone number"),
    ],
)
def test_a_refused_call_is_shown_on_the_form_and_nothing_is_stored(
    agent_client: Client, phone_case: Case, fields: dict[str, str], error: str
) -> None:
    thread = customer_thread(phone_case)

    response = agent_client.post(
        f"/cases/{phone_case.pk}/threads/{thread.pk}/calls/", call_form(**fields)
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert Call.objects.count() == 0


def test_an_agent_without_clearance_cannot_log_a_call(
    agent_client: Client, clinical_agent: Agent
) -> None:
    case = make_case(clinical_agent, sensitivity="clinical")
    thread = customer_thread(case)

    response = agent_client.post(
        f"/cases/{case.pk}/threads/{thread.pk}/calls/", call_form(number=CUSTOMER_NUMBER)
    )

    assert response.status_code == 403
    assert "Break the glass" in response.content.decode()
    assert Call.objects.count() == 0
    assert AuditRecord.objects.get().outcome == "denied"


def test_the_recording_plays_in_the_timeline_and_the_transcript_is_collapsed(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    call = attach_transcript(recorded_call(agent, phone_case), text="Can we move it to Tuesday?")

    page = agent_client.get(f"/cases/{phone_case.pk}/").content.decode()

    player = f"/cases/{phone_case.pk}/calls/{call.pk}/recording/"
    assert f'<audio class="call-recording" controls preload="none" src="{player}">' in page
    assert '<details class="call-transcript">' in page
    assert "<p>Can we move it to Tuesday?</p>" in page


def test_the_recording_is_served_as_playable_audio_after_the_gate(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    call = recorded_call(agent, phone_case)

    response = agent_client.get(f"/cases/{phone_case.pk}/calls/{call.pk}/recording/")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Disposition"] == "inline"
    assert response.content == WAV
    assert AuditRecord.objects.filter(action="case.view", outcome="granted").count() == 1


@pytest.mark.parametrize(
    ("header", "expected_range", "body"),
    [
        ("bytes=0-3", "bytes 0-3/128", WAV[:4]),
        ("bytes=100-", "bytes 100-127/128", WAV[100:]),
        ("bytes=-8", "bytes 120-127/128", WAV[-8:]),
    ],
)
def test_a_player_can_ask_for_one_byte_range(
    agent: Agent,
    agent_client: Client,
    phone_case: Case,
    header: str,
    expected_range: str,
    body: bytes,
) -> None:
    call = recorded_call(agent, phone_case)

    response = agent_client.get(
        f"/cases/{phone_case.pk}/calls/{call.pk}/recording/", headers={"Range": header}
    )

    assert response.status_code == 206
    assert response["Content-Range"] == expected_range
    assert response.content == body


def test_a_range_past_the_end_gets_the_whole_recording(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    call = recorded_call(agent, phone_case)

    response = agent_client.get(
        f"/cases/{phone_case.pk}/calls/{call.pk}/recording/", headers={"Range": "bytes=500-"}
    )

    assert response.status_code == 200
    assert response.content == WAV


def test_a_recording_on_a_case_above_clearance_is_refused(
    clinical_agent: Agent, agent_client: Client
) -> None:
    case = make_case(clinical_agent, sensitivity="clinical")
    call = log_call(
        clinical_agent,
        customer_thread(case),
        details=CallDetails(
            direction=Direction.OUTBOUND, outcome=CallOutcome.ANSWERED, party_number="+6495550100"
        ),
    )
    attach_recording(
        call, recording=NewAttachment("RE1.wav", "audio/wav", WAV), recording_sid="RE1"
    )

    response = agent_client.get(f"/cases/{case.pk}/calls/{call.pk}/recording/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert AuditRecord.objects.get().outcome == "denied"


def test_a_recording_is_only_found_under_its_own_case(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    call = recorded_call(agent, phone_case)
    other = make_case(agent)

    response = agent_client.get(f"/cases/{other.pk}/calls/{call.pk}/recording/")

    assert response.status_code == 404


def test_a_merged_case_offers_no_call_form(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    target = make_case(agent)
    merge_cases(agent, source=phone_case, target=target)

    page = agent_client.get(f"/cases/{phone_case.pk}/").content.decode()

    assert "Log a call" not in page


def test_the_timeline_says_who_was_called_how_it_ended_and_how_long(
    client: Client, agent: Agent, phone_case: Case
) -> None:
    recorded_call(agent, phone_case)
    client.force_login(agent)

    response = client.get(f"/cases/{phone_case.pk}/")

    assert "Call from the customer: answered, 3 min 05 s" in response.content.decode()


def test_a_transcript_shows_masked_and_reveals_on_demand(
    agent: Agent, agent_client: Client, phone_case: Case
) -> None:
    call = attach_transcript(
        recorded_call(agent, phone_case), text="My card is 4111 1111 1111 1111, thanks."
    )

    page = agent_client.get(f"/cases/{phone_case.pk}/").content.decode()
    revealed = agent_client.get(
        f"/cases/{phone_case.pk}/messages/{call.message_id}/reveal/?part=transcript"
    ).content.decode()

    assert "<p>My card is [card number], thanks.</p>" in page
    assert "4111 1111 1111 1111" not in page
    assert "My card is 4111 1111 1111 1111, thanks." in revealed
    assert AuditRecord.objects.filter(action="pii.reveal", reason="transcript").count() == 1
