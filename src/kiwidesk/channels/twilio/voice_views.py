"""Twilio Voice's webhooks: a finished call, its recording, its transcript.

As for messages (views.py), a verified body is stored as an ingest Delivery and
answered at once; the handlers below run in the worker (registered in apps.py).

Where a reported call goes (decided for issue 3): an inbound call is an inbound
message like an SMS, so it goes through `ingest()` with an InboundMessage on the
phone channel, keyed by its CallSid. Ingest then does what it does for every
channel: finds or creates the caller's contact, routes to the number's open phone
conversation (or opens a case, with a merge suggestion), reopens a solved case and
starts a new one after a closed case, once per CallSid; the call's details are added
to that message (`cases.services.record_call`). An outbound call is not inbound, so
it is logged (`log_call`) on the callee's open phone conversation; with none, its
body is quarantined for an admin rather than guessed onto a case.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kiwidesk.cases.content import AttachmentRefusedError
from kiwidesk.cases.models import Call, Channel, Direction
from kiwidesk.cases.services import (
    CALL_WITHOUT_NOTES,
    CallAlreadyLoggedError,
    attach_recording,
    attach_transcript,
    log_call,
    record_call,
)
from kiwidesk.channels.common import UnreadablePayloadError
from kiwidesk.channels.media import MediaUnavailableError
from kiwidesk.channels.twilio import voice
from kiwidesk.channels.twilio.views import is_signed
from kiwidesk.contacts.models import IdentityKind
from kiwidesk.contacts.services import find_contact
from kiwidesk.ingest import deliveries, routing
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.services import UnroutableMessageError, ingest, quarantine

# The handler names of the three webhooks' deliveries.
CALL_STATUS = "twilio-voice-status"
RECORDING = "twilio-voice-recording"
TRANSCRIPTION = "twilio-voice-transcription"


@csrf_exempt
@require_POST
def call_status(request: HttpRequest) -> HttpResponse:
    """Accept a call's status callback; the worker logs the call once it is over."""
    return _accept(request, CALL_STATUS) or HttpResponse(status=204)


@csrf_exempt
@require_POST
def recording_status(request: HttpRequest) -> HttpResponse:
    """Accept a recording-status callback; the worker downloads and attaches the audio."""
    return _accept(request, RECORDING) or HttpResponse(status=204)


@csrf_exempt
@require_POST
def transcription(request: HttpRequest) -> HttpResponse:
    """Accept a transcription callback; the worker keeps the text on the call."""
    return _accept(request, TRANSCRIPTION) or HttpResponse(status=204)


def _accept(request: HttpRequest, handler: str) -> HttpResponse | None:
    raw = request.body
    if not is_signed(request, raw):
        return HttpResponseForbidden("bad signature")
    deliveries.accept(raw, adapter=handler, channel=Channel.PHONE, source=voice.call_source(raw))
    return None


def handle_call_status(raw: bytes, source: str) -> None:
    """Log a finished call (a status for a call not over yet changes nothing)."""
    try:
        report = voice.parse_call_status(raw)
        if report is not None:
            _call_of(report, raw, source)
    except (UnreadablePayloadError, UnroutableMessageError) as exc:
        _quarantine(raw, source, CALL_STATUS, str(exc))


def handle_recording(raw: bytes, source: str) -> None:
    """Download a completed recording and attach it to its call.

    Both requests to Twilio run before anything is written: a write would hold the
    database (SQLite's one writer) for as long as the download takes. A failed
    download raises, so the delivery is retried and quarantined after the last try.
    """
    try:
        report = voice.parse_recording(raw)
        if report is None:
            return
        known = _known_call(report.call_sid)
        if known is not None and known.recording_sid == report.recording_sid:
            return
        fetched = voice.fetch_call(report.call_sid) if known is None else None
        recording = voice.download_recording(report.recording_url, report.recording_sid)
        call = known if fetched is None else _call_of(fetched, raw, source)
        if call is not None:
            attach_recording(call, recording=recording, recording_sid=report.recording_sid)
    except (
        UnreadablePayloadError,
        UnroutableMessageError,
        voice.ForeignRecordingUrlError,
        MediaUnavailableError,
        AttachmentRefusedError,
    ) as exc:
        _quarantine(raw, source, RECORDING, str(exc))


def handle_transcription(raw: bytes, source: str) -> None:
    """Keep a completed transcript on its call (read from Twilio if not yet reported)."""
    try:
        report = voice.parse_transcription(raw)
        if report is None:
            return
        call = _known_call(report.call_sid)
        if call is None:
            call = _call_of(voice.fetch_call(report.call_sid), raw, source)
        if call is not None:
            attach_transcript(call, text=report.text)
    except (UnreadablePayloadError, UnroutableMessageError) as exc:
        _quarantine(raw, source, TRANSCRIPTION, str(exc))


def _known_call(call_sid: str) -> Call | None:
    return Call.objects.filter(source=voice.SOURCE, provider_call_id=call_sid).first()


def _call_of(report: voice.CallReport, raw: bytes, source: str) -> Call | None:
    """The call `report` describes: already logged, ingested if inbound, or logged on the
    callee's open phone conversation. None (quarantined) for an outbound call to a
    number with no open phone conversation."""
    known = _known_call(report.call_sid)
    if known is not None:
        return known
    if report.direction == Direction.INBOUND:
        return _ingested(report)
    callee = find_contact(IdentityKind.PHONE, report.party_number)
    thread = routing.open_conversation(Channel.PHONE, callee) if callee else None
    if thread is None:
        reason = f"an outbound call to {report.party_number}, who has no open phone conversation"
        _quarantine(raw, source, CALL_STATUS, reason)
        return None
    try:
        return log_call(None, thread, details=report.details())
    except CallAlreadyLoggedError as exc:
        return exc.call


def _ingested(report: voice.CallReport) -> Call:
    # Keyed by our number and the CallSid whichever callback reports the call first, so
    # ingest's receipt stores it once.
    result = ingest(
        InboundMessage(
            channel=Channel.PHONE,
            source=f"{voice.SOURCE}:{report.our_number}",
            external_id=report.call_sid,
            sender=Sender(IdentityKind.PHONE, report.party_number),
            text=CALL_WITHOUT_NOTES,
            subject=f"Call from {report.party_number}",
            sent_at=report.started_at,
        )
    )
    return record_call(result.message, details=report.details())


def _quarantine(raw: bytes, source: str, handler: str, reason: str) -> None:
    quarantine(raw, channel=Channel.PHONE, adapter=handler, source=source, reason=reason)
