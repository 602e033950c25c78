"""Twilio Voice: finished calls, recordings and transcripts from signed callbacks.

Signatures are computed with Twilio's own RequestValidator (conftest.signature); the
REST API is a real HTTP server on 127.0.0.1 that answers as Twilio documents.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Call, CallOutcome, Case, Channel, Direction, Event, EventKind
from kiwidesk.cases.services import CallDetails, log_call, update_case
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_or_create_contact
from kiwidesk.ingest import deliveries
from kiwidesk.ingest.models import Delivery, QuarantinedMessage
from tests.channels.conftest import FileHost
from tests.channels.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_NUMBER,
    SUPPORT_NUMBER,
    form,
    post_signed,
    signature,
)
from tests.factories.cases import customer_thread, make_case

pytestmark = pytest.mark.django_db

STATUS_PATH = "/channels/twilio/voice/status/"
RECORDING_PATH = "/channels/twilio/voice/recording/"
TRANSCRIPTION_PATH = "/channels/twilio/voice/transcription/"
CALL_SID = "CA5ef8732a3c49700934481addd5ce1659"
RECORDING_SID = "RE5ef8732a3c49700934481addd5ce1659"
RECORDING_PATH_ON_API = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00" + bytes(64)


@dataclass
class TwilioApi:
    """Twilio's REST API on the local file host: what it serves and what it was asked."""

    host: FileHost

    @property
    def base_url(self) -> str:
        return self.host.base_url

    @property
    def routes(self) -> dict[str, tuple[int, str, bytes]]:
        return self.host.routes

    @property
    def requests(self) -> list[tuple[str, str]]:
        return [(request["path"], request["authorization"]) for request in self.host.requests]

    def serve_recording(self) -> None:
        self.host.serve(RECORDING_PATH_ON_API + ".wav", WAV, content_type="audio/x-wav")

    def serve_call(self, **fields: Any) -> None:
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL_SID}.json"
        self.host.serve(path, call_resource(**fields), content_type="application/json")


def call_resource(**fields: Any) -> bytes:
    """The JSON Twilio documents for a Call resource."""
    resource = {
        "sid": CALL_SID,
        "account_sid": ACCOUNT_SID,
        "from": CUSTOMER_NUMBER,
        "to": SUPPORT_NUMBER,
        "status": "completed",
        "direction": "inbound",
        "duration": "95",
        "start_time": "Mon, 02 Mar 2026 12:00:00 +0000",
        "end_time": "Mon, 02 Mar 2026 12:01:35 +0000",
        "parent_call_sid": None,
        "price": None,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL_SID}.json",
        **fields,
    }
    return json.dumps(resource).encode()


@pytest.fixture
def twilio_api(file_host: FileHost, settings: Any) -> TwilioApi:
    """Twilio's API, answering only requests with the account's basic auth."""
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    file_host.required_authorization = f"Basic {credentials}"
    settings.KIWIDESK_TWILIO_API_BASE_URL = file_host.base_url
    return TwilioApi(file_host)


def call_status(**fields: str) -> bytes:
    """The StatusCallback Twilio posts when an incoming call ends."""
    return form(
        **{
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": CALL_SID,
            "CallStatus": "completed",
            "CallDuration": "95",
            "Direction": "inbound",
            "From": CUSTOMER_NUMBER,
            "To": SUPPORT_NUMBER,
            "Timestamp": "Mon, 02 Mar 2026 12:01:35 +0000",
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
            **fields,
        }
    )


def recording_status(api: TwilioApi, **fields: str) -> bytes:
    """The RecordingStatusCallback Twilio posts when a recording is ready."""
    return form(
        **{
            "AccountSid": ACCOUNT_SID,
            "CallSid": CALL_SID,
            "RecordingSid": RECORDING_SID,
            "RecordingUrl": api.base_url + RECORDING_PATH_ON_API,
            "RecordingStatus": "completed",
            "RecordingDuration": "93",
            "RecordingChannels": "1",
            "RecordingStartTime": "Mon, 02 Mar 2026 12:00:02 +0000",
            "RecordingSource": "RecordVerb",
            "RecordingTrack": "both",
            **fields,
        }
    )


def transcription_callback(text: str, **fields: str) -> bytes:
    return form(
        **{
            "AccountSid": ACCOUNT_SID,
            "CallSid": CALL_SID,
            "RecordingSid": RECORDING_SID,
            "TranscriptionSid": "TR5ef8732a3c49700934481addd5ce1659",
            "TranscriptionText": text,
            "TranscriptionStatus": "completed",
            "TranscriptionType": "fast",
            "url": "https://api.twilio.com/2010-04-01/Accounts/AC/Transcriptions/TR1",
            **fields,
        }
    )


def phone_customer_case(agent: Agent | None = None) -> Case:
    customer = find_or_create_contact(IdentityKind.PHONE, CUSTOMER_NUMBER, name="Customer")
    return make_case(agent, customer=customer, channel=Channel.PHONE)


def test_a_finished_incoming_call_opens_a_phone_case_with_the_call(client: Client) -> None:
    response = post_signed(client, STATUS_PATH, call_status())

    assert response.status_code == 204
    call = Call.objects.select_related("message__thread", "message__case").get()
    assert (call.source, call.provider_call_id) == ("twilio", CALL_SID)
    assert (call.from_number, call.to_number) == (CUSTOMER_NUMBER, SUPPORT_NUMBER)
    assert (call.outcome, call.duration_seconds) == (CallOutcome.ANSWERED, 95)
    assert call.started_at.isoformat() == "2026-03-02T12:00:00+00:00"
    assert call.message.direction == Direction.INBOUND
    assert call.message.thread.channel == Channel.PHONE
    assert call.message.case.subject == f"Call from {CUSTOMER_NUMBER}"


def test_an_incoming_call_lands_on_the_numbers_open_phone_conversation(client: Client) -> None:
    case = phone_customer_case()

    post_signed(client, STATUS_PATH, call_status())

    call = Call.objects.select_related("message").get()
    assert call.message.case_id == case.pk
    assert call.message.thread_id == customer_thread(case).pk
    assert Case.objects.count() == 1


def test_a_status_callback_delivered_twice_logs_the_call_once(client: Client) -> None:
    post_signed(client, STATUS_PATH, call_status())

    post_signed(client, STATUS_PATH, call_status())

    assert Call.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.CALL_LOGGED).count() == 1


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress"])
def test_a_call_not_over_yet_logs_nothing(client: Client, status: str) -> None:
    response = post_signed(client, STATUS_PATH, call_status(CallStatus=status))

    assert response.status_code == 204
    assert Call.objects.count() == 0
    assert Delivery.objects.get().processed_at is not None


def test_a_missed_incoming_call_leaves_the_customer_waiting_for_us(client: Client) -> None:
    case = phone_customer_case()
    update_case(None, case, {"status": "pending_customer"})

    post_signed(client, STATUS_PATH, call_status(CallStatus="no-answer", CallDuration="0"))

    call = Call.objects.get()
    case.refresh_from_db()
    assert (call.outcome, call.duration_seconds) == (CallOutcome.NO_ANSWER, 0)
    assert case.status == "open"


@pytest.mark.parametrize("path", [STATUS_PATH, RECORDING_PATH, TRANSCRIPTION_PATH])
def test_a_bad_signature_is_refused_and_nothing_is_stored(client: Client, path: str) -> None:
    body = call_status()

    response = client.post(
        path,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature(f"http://testserver{path}", body, "wrong")},
    )

    assert response.status_code == 403
    assert Delivery.objects.count() == 0
    assert Call.objects.count() == 0


def test_a_recording_is_downloaded_with_the_account_credentials_and_plays_on_the_case_page(
    client: Client, agent: Agent, twilio_api: TwilioApi
) -> None:
    twilio_api.serve_recording()
    post_signed(client, STATUS_PATH, call_status())

    response = post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    assert response.status_code == 204
    assert [path for path, _ in twilio_api.requests] == [RECORDING_PATH_ON_API + ".wav"]
    call = Call.objects.select_related("recording", "message").get()
    assert call.recording is not None
    assert (call.recording_sid, call.recording.content_type) == (RECORDING_SID, "audio/wav")
    client.force_login(agent)
    played = client.get(f"/cases/{call.message.case_id}/calls/{call.pk}/recording/")
    assert played.status_code == 200
    assert played["Content-Type"] == "audio/wav"
    assert played.content == WAV
    page = client.get(f"/cases/{call.message.case_id}/").content.decode()
    assert f'src="/cases/{call.message.case_id}/calls/{call.pk}/recording/"' in page


def test_a_recording_delivered_twice_is_downloaded_once(
    client: Client, twilio_api: TwilioApi
) -> None:
    twilio_api.serve_recording()
    post_signed(client, STATUS_PATH, call_status())
    post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    assert len(twilio_api.requests) == 1
    assert Call.objects.get().message.attachments.count() == 1


def test_a_recording_of_a_call_not_yet_reported_reads_the_call_from_twilio(
    client: Client, twilio_api: TwilioApi
) -> None:
    case = phone_customer_case()
    twilio_api.serve_recording()
    twilio_api.serve_call()

    post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    call = Call.objects.select_related("message", "recording").get()
    assert call.message.case_id == case.pk
    assert (call.outcome, call.duration_seconds, call.provider_call_id) == (
        CallOutcome.ANSWERED,
        95,
        CALL_SID,
    )
    assert call.started_at.isoformat() == "2026-03-02T12:00:00+00:00"
    assert call.recording is not None
    assert call.recording.size == len(WAV)


def test_a_failed_download_is_retried_then_quarantined(
    client: Client, twilio_api: TwilioApi
) -> None:
    post_signed(client, STATUS_PATH, call_status())
    twilio_api.routes[RECORDING_PATH_ON_API + ".wav"] = (503, "text/plain", b"try later")
    post_signed(client, RECORDING_PATH, recording_status(twilio_api))
    delivery = Delivery.objects.get(adapter="twilio-voice-recording")

    outcomes = [deliveries.process(delivery.pk) for _ in range(4)]

    assert outcomes == ["retry", "retry", "retry", "quarantined"]
    quarantined = QuarantinedMessage.objects.get()
    assert quarantined.raw == recording_status(twilio_api)
    assert quarantined.adapter == "twilio-voice-recording"
    assert "503" in quarantined.reason
    assert Call.objects.get().recording is None


def test_a_download_that_works_on_retry_attaches_the_recording(
    client: Client, twilio_api: TwilioApi
) -> None:
    post_signed(client, STATUS_PATH, call_status())
    twilio_api.routes[RECORDING_PATH_ON_API + ".wav"] = (503, "text/plain", b"try later")
    post_signed(client, RECORDING_PATH, recording_status(twilio_api))
    twilio_api.serve_recording()

    outcome = deliveries.process(Delivery.objects.get(adapter="twilio-voice-recording").pk)

    assert outcome == "processed"
    assert Call.objects.get().recording is not None


def test_a_recording_url_off_twilios_api_is_quarantined_and_never_fetched(
    client: Client, twilio_api: TwilioApi
) -> None:
    post_signed(client, STATUS_PATH, call_status())
    foreign = "http://127.0.0.2:9/2010-04-01/Accounts/AC/Recordings/RE1"

    post_signed(client, RECORDING_PATH, recording_status(twilio_api, RecordingUrl=foreign))

    assert twilio_api.requests == []
    assert QuarantinedMessage.objects.get().reason.startswith(f"{foreign} is not on")
    assert Call.objects.get().recording is None


def test_an_absent_recording_attaches_nothing(client: Client, twilio_api: TwilioApi) -> None:
    post_signed(client, STATUS_PATH, call_status())

    post_signed(client, RECORDING_PATH, recording_status(twilio_api, RecordingStatus="absent"))

    assert twilio_api.requests == []
    assert Call.objects.get().recording is None


def test_a_transcript_is_kept_and_shown_collapsed_under_the_call(
    client: Client, agent: Agent
) -> None:
    post_signed(client, STATUS_PATH, call_status())

    post_signed(client, TRANSCRIPTION_PATH, transcription_callback("Table for six, please."))

    call = Call.objects.get()
    assert call.transcript == "Table for six, please."
    client.force_login(agent)
    page = client.get(f"/cases/{call.message.case_id}/").content.decode()
    assert '<details class="call-transcript">' in page
    assert "<p>Table for six, please.</p>" in page


def test_a_failed_transcription_keeps_nothing(client: Client) -> None:
    post_signed(client, STATUS_PATH, call_status())

    post_signed(
        client, TRANSCRIPTION_PATH, transcription_callback("", TranscriptionStatus="failed")
    )

    assert Call.objects.get().transcript == ""
    assert Event.objects.filter(kind=EventKind.TRANSCRIPT_ATTACHED).count() == 0


def test_an_outbound_call_is_logged_on_the_callees_open_phone_conversation(
    client: Client, agent: Agent
) -> None:
    case = phone_customer_case(agent)

    post_signed(
        client,
        STATUS_PATH,
        call_status(
            Direction="outbound-api",
            From=SUPPORT_NUMBER,
            To=CUSTOMER_NUMBER,
            CallStatus="busy",
            CallDuration="0",
        ),
    )

    call = Call.objects.select_related("message").get()
    assert call.message.case_id == case.pk
    assert call.message.direction == Direction.OUTBOUND
    assert (call.from_number, call.to_number, call.outcome) == (
        SUPPORT_NUMBER,
        CUSTOMER_NUMBER,
        CallOutcome.BUSY,
    )


def test_an_outbound_call_to_a_number_with_no_open_conversation_is_quarantined(
    client: Client,
) -> None:
    body = call_status(Direction="outbound-api", From=SUPPORT_NUMBER, To=CUSTOMER_NUMBER)

    post_signed(client, STATUS_PATH, body)

    assert Call.objects.count() == 0
    quarantined = QuarantinedMessage.objects.get()
    assert quarantined.raw == body
    assert "has no open phone conversation" in quarantined.reason


def test_a_call_with_an_unusable_number_is_quarantined(client: Client) -> None:
    body = call_status(From="anonymous")

    post_signed(client, STATUS_PATH, body)

    assert Call.objects.count() == 0
    assert QuarantinedMessage.objects.get().raw == body


def test_a_call_an_agent_logged_with_its_callsid_takes_its_recording(
    client: Client, agent: Agent, twilio_api: TwilioApi
) -> None:
    case = phone_customer_case(agent)
    logged = log_call(
        agent,
        customer_thread(case),
        details=CallDetails(
            direction=Direction.OUTBOUND,
            outcome=CallOutcome.ANSWERED,
            source="twilio",
            provider_call_id=CALL_SID,
        ),
    )
    twilio_api.serve_recording()

    post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    logged.refresh_from_db()
    assert logged.recording is not None
    assert Call.objects.count() == 1


def test_a_transcript_of_a_call_not_yet_reported_reads_the_call_from_twilio(
    client: Client, twilio_api: TwilioApi
) -> None:
    twilio_api.serve_call(status="no-answer", duration="0")

    post_signed(client, TRANSCRIPTION_PATH, transcription_callback("Please call me back."))

    call = Call.objects.get()
    assert (call.outcome, call.transcript) == (CallOutcome.NO_ANSWER, "Please call me back.")


def test_a_call_twilio_cannot_find_is_retried_like_a_failed_download(
    client: Client, twilio_api: TwilioApi
) -> None:
    twilio_api.serve_recording()

    post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.processed_at) == (1, None)
    assert "not read from Twilio" in delivery.last_error
    assert Call.objects.count() == 0


def test_a_recording_callback_without_a_recording_sid_is_quarantined(
    client: Client, twilio_api: TwilioApi
) -> None:
    body = recording_status(twilio_api, RecordingSid="")

    post_signed(client, RECORDING_PATH, body)

    assert QuarantinedMessage.objects.get().raw == body
    assert twilio_api.requests == []


def test_a_recording_over_the_size_limit_is_quarantined(
    client: Client, twilio_api: TwilioApi, settings: Any
) -> None:
    settings.KIWIDESK_MAX_ATTACHMENT_BYTES = 16
    twilio_api.serve_recording()
    post_signed(client, STATUS_PATH, call_status())

    post_signed(client, RECORDING_PATH, recording_status(twilio_api))

    assert QuarantinedMessage.objects.get().reason == "larger than the limit of 16 bytes"
    assert Call.objects.get().recording is None


def test_a_timestamp_without_a_zone_is_read_as_utc(client: Client) -> None:
    post_signed(client, STATUS_PATH, call_status(Timestamp="Mon, 02 Mar 2026 12:01:35 -0000"))

    assert Call.objects.get().started_at.isoformat() == "2026-03-02T12:00:00+00:00"


def test_a_leg_dialled_to_an_agents_phone_is_left_to_its_parent_call(client: Client) -> None:
    leg = call_status(
        CallSid="CA00000000000000000000000000000002",
        ParentCallSid=CALL_SID,
        Direction="outbound-dial",
        From=SUPPORT_NUMBER,
        To="+447700900555",
    )

    post_signed(client, STATUS_PATH, leg)

    assert Call.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0
