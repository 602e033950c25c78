"""Calls: the call log of a case's threads, and each call's recording."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from kiwidesk.api.auth import current_agent
from kiwidesk.api.errors import ThreadNotFoundError
from kiwidesk.api.schemas import ERRORS, Body, Id, NoNul
from kiwidesk.cases import queries, services
from kiwidesk.cases.models import Call, CallOutcome, Party, Thread
from kiwidesk.privacy.access import CaseNotFoundError, Purpose, access_case

router = Router(tags=["calls"])

# A logged call that started in the future is a typing mistake; a little clock skew is not.
FUTURE_TOLERANCE = timedelta(minutes=5)
Number = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), NoNul]
ProviderText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), NoNul]


class CallIn(Schema):
    thread_id: Id = Field(
        description="The thread with the party called or calling, on any channel; the call "
        "goes on the case's phone thread with that party, opened if there is none."
    )
    direction: Literal["inbound", "outbound"]
    outcome: CallOutcome
    party_number: Number = Field("", description="Defaults to the party's number on file.")
    our_number: Number = ""
    duration_seconds: int = Field(0, ge=0, le=86_400)
    started_at: AwareDatetime | None = Field(
        None, description="Defaults to the duration before the call is logged."
    )
    notes: Body = ""
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), NoNul] = Field(
        "", description='The provider that knows the call ("twilio"), so its recording attaches.'
    )
    provider_call_id: ProviderText = Field("", description="The provider's id (Twilio CallSid).")

    @field_validator("started_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > timezone.now() + FUTURE_TOLERANCE:
            raise ValueError("a call cannot start in the future")
        return value

    def details(self) -> services.CallDetails:
        return services.CallDetails(
            direction=self.direction,
            outcome=str(self.outcome),
            party_number=self.party_number,
            our_number=self.our_number,
            duration_seconds=self.duration_seconds,
            started_at=self.started_at,
            source=self.source,
            provider_call_id=self.provider_call_id,
        )


class CallOut(Schema):
    id: int
    case_id: int
    thread_id: int
    message_id: int
    party: Party
    direction: Literal["inbound", "outbound"]
    from_number: str
    to_number: str
    started_at: datetime
    duration_seconds: int
    outcome: CallOutcome
    notes: str
    source: str
    provider_call_id: str
    recording_url: str | None = Field(description="Where to download the recording, if any.")
    transcript: str

    @staticmethod
    def resolve_case_id(call: Call) -> int:
        return call.message.case_id

    @staticmethod
    def resolve_thread_id(call: Call) -> int:
        return call.message.thread_id

    @staticmethod
    def resolve_party(call: Call) -> str:
        return call.message.thread.party

    @staticmethod
    def resolve_direction(call: Call) -> str:
        return call.message.direction

    @staticmethod
    def resolve_notes(call: Call) -> str:
        text = call.message.body_text
        return "" if text == services.CALL_WITHOUT_NOTES else text

    @staticmethod
    def resolve_recording_url(call: Call) -> str | None:
        if call.recording_id is None:
            return None
        return f"/api/v1/calls/{call.pk}/recording"


@router.post("/cases/{case_id}/calls", response={201: CallOut, **ERRORS}, summary="Log a call")
def log_call(request: HttpRequest, case_id: int, body: CallIn) -> Status[Call]:
    """Log a call with the party of one of the case's threads (customer or third party)."""
    agent = current_agent(request)
    case = access_case(agent, case_id, Purpose.REPLY)
    thread = Thread.objects.filter(pk=body.thread_id, case=case).first()
    if thread is None:
        raise ThreadNotFoundError(body.thread_id)
    try:
        call = services.log_call(agent, thread, details=body.details(), notes=body.notes)
    except services.CallAlreadyLoggedError as exc:
        raise HttpError(409, f"That call is already logged as call {exc.call.pk}.") from None
    except (services.NoPartyToCallError, services.MissingNumberError) as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, queries.case_calls(case).get(pk=call.pk))


@router.get("/cases/{case_id}/calls", response={200: list[CallOut], **ERRORS})
def list_calls(request: HttpRequest, case_id: int) -> list[Call]:
    """The case's call log, oldest first, on every thread."""
    case = access_case(current_agent(request), case_id, Purpose.VIEW)
    return list(queries.case_calls(case))


@router.get(
    "/calls/{call_id}/recording",
    response=ERRORS,
    summary="Download a call's recording",
    openapi_extra={
        "responses": {
            200: {
                "description": "The recording, as the provider sent it (WAV from Twilio).",
                "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def recording(request: HttpRequest, call_id: int) -> FileResponse:
    agent = current_agent(request)
    call = Call.objects.select_related("message", "recording").filter(pk=call_id).first()
    if call is None:
        raise Http404(call_id)
    # Through the gate even to learn there is no recording: its case may not be theirs,
    # and a refusal answers as a missing call does, so call ids cannot be probed.
    try:
        access_case(agent, call.message.case_id, Purpose.VIEW)
    except CaseNotFoundError:
        raise Http404(call_id) from None
    if call.recording is None:
        raise Http404(call_id)
    return FileResponse(
        _opened(call.recording.file),
        as_attachment=True,
        filename=call.recording.filename,
        content_type=call.recording.content_type,
    )


def _opened(file: FieldFile) -> FieldFile:
    try:
        return file.open("rb")
    except FileNotFoundError:
        raise Http404("The recording is missing from storage") from None
