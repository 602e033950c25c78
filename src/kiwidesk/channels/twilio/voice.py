"""Phone calls through Twilio Voice: read its callbacks, fetch a call, download a recording.

Twilio posts three kinds of form to Kiwidesk, each signed like the messaging webhooks
(X-Twilio-Signature, checked with `adapter.verify`):

- the call's StatusCallback (CallSid, CallStatus, Direction, From, To, CallDuration,
  Timestamp): a finished call is logged;
- the RecordingStatusCallback (CallSid, RecordingSid, RecordingUrl, RecordingStatus,
  RecordingDuration, RecordingChannels…): a completed recording is downloaded from
  RecordingUrl + ".wav" with HTTP basic auth (account SID, auth token);
- the transcription callback (CallSid, RecordingSid, TranscriptionSid,
  TranscriptionText, TranscriptionStatus).

A recording or transcript may arrive for a call no status callback has reported; the
call is then read from the REST API's Call resource (`fetch_call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.http import QueryDict
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import CallOutcome, Direction
from kiwidesk.cases.services import CallDetails
from kiwidesk.channels import media
from kiwidesk.channels.common import UnreadablePayloadError, e164
from kiwidesk.channels.twilio.client import account_credentials, is_on_api_host, twilio_client

# Calls from Twilio are known by their CallSid under this source (cases.Call.source).
SOURCE = "twilio"

# Twilio's final CallStatus values; the others (queued, initiated, ringing,
# in-progress) say the call is not over, so there is nothing to log yet.
OUTCOMES: dict[str, str] = {
    "completed": CallOutcome.ANSWERED,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.CANCELED,
}


class RecordingDownloadError(RuntimeError):
    """The recording could not be downloaded now; the delivery is retried."""


class ForeignRecordingUrlError(ValueError):
    """A RecordingUrl outside Twilio's API: the credentials are never sent there."""


@dataclass(frozen=True)
class CallReport:
    """A finished call as Twilio reports it, from Kiwidesk's side of the line."""

    call_sid: str
    direction: str
    outcome: str
    party_number: str
    our_number: str
    duration_seconds: int
    started_at: datetime | None

    def details(self) -> CallDetails:
        return CallDetails(
            direction=self.direction,
            outcome=self.outcome,
            party_number=self.party_number,
            our_number=self.our_number,
            duration_seconds=self.duration_seconds,
            started_at=self.started_at,
            source=SOURCE,
            provider_call_id=self.call_sid,
        )


@dataclass(frozen=True)
class RecordingReport:
    call_sid: str
    recording_sid: str
    recording_url: str


@dataclass(frozen=True)
class TranscriptionReport:
    call_sid: str
    transcription_sid: str
    text: str


def call_source(raw: bytes) -> str:
    """Where a voice callback arrived: our number for a call, else the account."""
    form = QueryDict(raw)
    inbound = _direction(form.get("Direction", "")) == Direction.INBOUND
    number = form.get("To" if inbound else "From", "").strip()
    return f"{SOURCE}:{number or form.get('AccountSid', '').strip()}"


def parse_call_status(raw: bytes) -> CallReport | None:
    """Read a call's StatusCallback; None while the call is not over, or for a child leg.

    Raises UnreadablePayloadError without a CallSid or with a number that is not E.164.
    """
    form = QueryDict(raw)
    outcome = OUTCOMES.get(form.get("CallStatus", "").strip().lower())
    # A leg <Dial> placed (to an agent's phone) belongs to its parent call, which is
    # the call with the customer and the one logged.
    if outcome is None or form.get("ParentCallSid", "").strip():
        return None
    duration = _seconds(form.get("CallDuration", ""))
    ended_at = _rfc2822(form.get("Timestamp", ""))
    return _report(
        call_sid=form.get("CallSid", ""),
        direction=_direction(form.get("Direction", "")),
        outcome=outcome,
        from_number=form.get("From", ""),
        to_number=form.get("To", ""),
        duration_seconds=duration,
        started_at=ended_at - timedelta(seconds=duration) if ended_at else None,
    )


def parse_recording(raw: bytes) -> RecordingReport | None:
    """Read a RecordingStatusCallback; None unless the recording is completed."""
    form = QueryDict(raw)
    if form.get("RecordingStatus", "").strip().lower() != "completed":
        return None
    report = RecordingReport(
        call_sid=form.get("CallSid", "").strip(),
        recording_sid=form.get("RecordingSid", "").strip(),
        recording_url=form.get("RecordingUrl", "").strip(),
    )
    if not report.call_sid or not report.recording_sid or not report.recording_url:
        raise UnreadablePayloadError("the recording callback has no CallSid, RecordingSid or URL")
    return report


def parse_transcription(raw: bytes) -> TranscriptionReport | None:
    """Read a transcription callback; None unless the transcription is completed."""
    form = QueryDict(raw)
    if form.get("TranscriptionStatus", "").strip().lower() != "completed":
        return None
    call_sid = form.get("CallSid", "").strip()
    if not call_sid:
        raise UnreadablePayloadError("the transcription callback has no CallSid")
    return TranscriptionReport(
        call_sid=call_sid,
        transcription_sid=form.get("TranscriptionSid", "").strip(),
        text=form.get("TranscriptionText", ""),
    )


def download_recording(recording_url: str, recording_sid: str) -> NewAttachment:
    """Download a recording as WAV, as Twilio documents: RecordingUrl + ".wav", basic auth.

    Only from Twilio's API host, so the account's credentials never go anywhere else
    (ForeignRecordingUrlError). A failure that may pass raises RecordingDownloadError,
    which the delivery retries; Twilio's refusal (a 4xx, a file over the size limit)
    raises media.MediaUnavailableError.
    """
    if not is_on_api_host(recording_url):
        raise ForeignRecordingUrlError(f"{recording_url} is not on Twilio's API host")
    try:
        return media.download(
            recording_url + ".wav",
            name=f"{recording_sid}.wav",
            auth=account_credentials(),
            content_type="audio/wav",
        )
    except media.MediaDownloadError as exc:
        raise RecordingDownloadError(f"recording {recording_sid} not downloaded: {exc}") from exc


def fetch_call(call_sid: str, *, client: Client | None = None) -> CallReport:
    """Read a call from the REST API's Call resource (for a recording of a call not yet
    reported). A call still in progress has a recording, so it counts as answered."""
    client = client or twilio_client()
    client.api.base_url = settings.KIWIDESK_TWILIO_API_BASE_URL
    try:
        call = client.calls(call_sid).fetch()
    except (TwilioException, requests.RequestException) as exc:
        raise RecordingDownloadError(f"call {call_sid} not read from Twilio: {exc}") from exc
    return _report(
        call_sid=str(call.sid or call_sid),
        direction=_direction(str(call.direction or "")),
        outcome=OUTCOMES.get(str(call.status or ""), CallOutcome.ANSWERED),
        from_number=str(call._from or ""),
        to_number=str(call.to or ""),
        duration_seconds=_seconds(str(call.duration or "")),
        started_at=call.start_time,
    )


def _report(
    *,
    call_sid: str,
    direction: str,
    outcome: str,
    from_number: str,
    to_number: str,
    duration_seconds: int,
    started_at: datetime | None,
) -> CallReport:
    if not call_sid.strip():
        raise UnreadablePayloadError("the call callback has no CallSid")
    inbound = direction == Direction.INBOUND
    party, ours = (from_number, to_number) if inbound else (to_number, from_number)
    return CallReport(
        call_sid=call_sid.strip(),
        direction=direction,
        outcome=outcome,
        party_number=e164(party),
        our_number=e164(ours) if ours.strip() else "",
        duration_seconds=duration_seconds,
        started_at=started_at,
    )


def _direction(value: str) -> str:
    # Twilio says "inbound", or "outbound-api" / "outbound-dial" for calls we placed.
    return Direction.INBOUND if value.strip().lower() == "inbound" else Direction.OUTBOUND


def _seconds(value: str) -> int:
    value = value.strip()
    return int(value) if value.isdigit() else 0


def _rfc2822(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value) if value.strip() else None
    except (TypeError, ValueError):
        return None
    # "-0000" means "zone unknown" and parses naive; Twilio's clocks are UTC.
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
