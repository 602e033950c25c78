"""Reveal a message's personal data on demand, and mark a message's sensitivity.

Messages show their personal data masked; revealing one value (or the whole message)
passes the access gate for `pii.reveal` and leaves an audit record naming the message
and what was revealed.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html, linebreaks
from django.views.decorators.http import require_GET, require_POST

from kiwidesk.cases import services
from kiwidesk.cases.models import Call, Message
from kiwidesk.pii.redaction import LABELS, as_findings, value_of
from kiwidesk.privacy import audit
from kiwidesk.privacy.access import (
    ClearanceError,
    Purpose,
    content_scope,
    ensure_cleared_for,
)
from kiwidesk.privacy.models import AuditOutcome
from kiwidesk.web.templatetags.kiwidesk_web import message_body
from kiwidesk.web.views._common import agent_of, agent_required, case_or_404


@require_GET
@agent_required
def reveal(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    """One value (`?finding=N`) as a highlighted span, a call's transcript
    (`?part=transcript`), or the whole original body."""
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.REVEAL)
    message = get_object_or_404(Message, pk=message_id, case=case)
    if not content_scope(agent, case).shows(message.sensitivity):
        raise Http404("No such message")
    if request.GET.get("part") == "transcript":
        call = Call.objects.filter(message=message).first()
        if call is None:
            raise Http404("No call on this message")
        audit.record(
            agent, Purpose.REVEAL, "message", message.pk, AuditOutcome.GRANTED, "transcript"
        )
        return HttpResponse(linebreaks(call.transcript, autoescape=True))
    finding = request.GET.get("finding", "")
    if not finding:
        audit.record(agent, Purpose.REVEAL, "message", message.pk, AuditOutcome.GRANTED, "all")
        return HttpResponse(message_body(message))
    findings = as_findings(message.pii)
    try:
        index = int(finding)
        value = value_of(message.body_text, findings, index)
    except (ValueError, IndexError):
        return HttpResponse("No such value in this message.", status=400)
    kind = sorted(findings)[index].type
    audit.record(
        agent, Purpose.REVEAL, "message", message.pk, AuditOutcome.GRANTED, f"{kind} #{index}"
    )
    label = LABELS.get(kind, kind)
    return HttpResponse(
        format_html('<mark class="pii-revealed" title="{}">{}</mark>', label, value)
    )


@require_POST
@agent_required
def mark_sensitivity(request: HttpRequest, case_id: int, message_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.CHANGE)
    message = get_object_or_404(Message, pk=message_id, case=case)
    if not content_scope(agent, case).shows(message.sensitivity):
        raise Http404("No such message")
    sensitivity = request.POST.get("sensitivity", "")
    try:
        ensure_cleared_for(agent, sensitivity)
    except ClearanceError as refusal:
        messages.error(request, str(refusal))
        return redirect("web:case", case_id=case.pk)
    services.set_message_sensitivity(agent, message, sensitivity)
    messages.success(request, f"Message marked {sensitivity}.")
    return redirect(f"/cases/{case.pk}/#message-{message.pk}")
