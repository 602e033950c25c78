"""The call log on the case page: logging a call on a thread, and playing its recording."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from kiwidesk.cases import services
from kiwidesk.cases.models import Call, CallOutcome, Direction, Party, Thread
from kiwidesk.contacts.services import InvalidIdentityError
from kiwidesk.privacy.access import Purpose
from kiwidesk.web.views._common import agent_of, agent_required, case_or_404
from kiwidesk.web.views.case_page import case_context

# What the service may refuse because of what the agent typed: shown on the form.
REFUSALS = (
    InvalidIdentityError,
    services.MissingNumberError,
    services.CallAlreadyLoggedError,
    services.CaseMergedError,
)
# Audio types a browser may play inline; anything else is only ever downloaded.
PLAYABLE = frozenset({"audio/wav", "audio/mpeg", "audio/ogg", "audio/webm"})
_DURATION = re.compile(r"^\s*(?:(\d{1,4}):)?(\d{1,5})\s*$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class CallForm(forms.Form):
    """Shape only: the service decides the numbers (E.164, the party's on file)."""

    direction = forms.ChoiceField(
        choices=[(Direction.OUTBOUND, "We called"), (Direction.INBOUND, "They called us")]
    )
    number = forms.CharField(max_length=40, required=False, help_text="Their number.")
    duration = forms.CharField(
        max_length=12, required=False, help_text="Minutes:seconds, e.g. 4:30."
    )
    outcome = forms.ChoiceField(choices=CallOutcome.choices)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_duration(self) -> int:
        text = self.cleaned_data["duration"]
        match = _DURATION.match(text or "0")
        if match is None:
            raise forms.ValidationError("Give the duration as minutes:seconds, e.g. 4:30.")
        minutes, seconds = int(match.group(1) or 0), int(match.group(2))
        return minutes * 60 + seconds

    def details(self) -> services.CallDetails:
        return services.CallDetails(
            direction=self.cleaned_data["direction"],
            outcome=self.cleaned_data["outcome"],
            party_number=self.cleaned_data["number"],
            duration_seconds=self.cleaned_data["duration"],
        )


@require_POST
@agent_required
def log_call(request: HttpRequest, case_id: int, thread_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.REPLY)
    thread = get_object_or_404(
        Thread, pk=thread_id, case=case, party__in=(Party.CUSTOMER, Party.THIRD_PARTY)
    )
    form = CallForm(request.POST)
    if form.is_valid():
        try:
            services.log_call(
                agent, thread, details=form.details(), notes=form.cleaned_data["notes"]
            )
        except REFUSALS as refusal:
            form.add_error(None, str(refusal))
    if not form.is_valid():
        context = case_context(agent, case.pk, call_form=form, call_thread_id=thread.pk)
        return render(request, "web/case.html", context, status=400)
    messages.success(request, f"Call with {thread.contact} logged.")
    return redirect("web:case", case_id=case.pk)


@require_GET
@agent_required
def recording(request: HttpRequest, case_id: int, call_id: int) -> HttpResponse:
    """The call's recording, for the page's audio player; one byte range when asked."""
    case = case_or_404(agent_of(request), case_id, Purpose.VIEW)
    call = get_object_or_404(
        Call.objects.select_related("recording"),
        pk=call_id,
        message__case=case,
        recording__isnull=False,
    )
    assert call.recording is not None  # noqa: S101 - filtered above
    content_type = call.recording.content_type
    if content_type not in PLAYABLE:
        content_type = "application/octet-stream"
    try:
        with call.recording.file.open("rb") as stored:
            content = stored.read()
    except FileNotFoundError:
        raise Http404("The recording is missing from storage") from None
    return _ranged(request, content, content_type=content_type)


def _ranged(request: HttpRequest, content: bytes, *, content_type: str) -> HttpResponse:
    """The whole body, or the one range a player asked for (206); others get it whole.

    Recordings are small (the attachment size limit), so they are read whole; a
    range lets a player seek without downloading the rest again.
    """
    span = _range(request.headers.get("Range", ""), len(content))
    if span is None:
        response = HttpResponse(content, content_type=content_type)
    else:
        start, end = span
        response = HttpResponse(content[start : end + 1], content_type=content_type, status=206)
        response["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = "inline"
    return response


def _range(header: str, size: int) -> tuple[int, int] | None:
    match = _RANGE.match(header.strip())
    if match is None or size == 0 or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        return max(size - int(last), 0), size - 1
    start, end = int(first), min(int(last) if last else size - 1, size - 1)
    if start > end:
        return None
    return start, end
