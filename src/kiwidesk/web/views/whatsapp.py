"""Writing an approved WhatsApp template from a thread's composer."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from kiwidesk.cases import services
from kiwidesk.cases.models import Channel, Party, Thread
from kiwidesk.channels.whatsapp.templates import TemplateRefusedError, send_template
from kiwidesk.privacy.access import Purpose
from kiwidesk.web.forms import TemplateForm
from kiwidesk.web.views._common import agent_of, agent_required, case_or_404
from kiwidesk.web.views.case_actions import refused


@require_POST
@agent_required
def send_whatsapp_template(request: HttpRequest, case_id: int, thread_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.REPLY)
    thread = get_object_or_404(
        Thread, pk=thread_id, case=case, channel=Channel.WHATSAPP, party=Party.CUSTOMER
    )
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            send_template(agent, thread, form.cleaned_data["template"], form.parameter_values())
        except (TemplateRefusedError, services.CaseMergedError) as refusal:
            form.add_error(None, str(refusal))
    if not form.is_valid():
        return refused(request, agent, case, template_form=form, compose_thread_id=thread.pk)
    messages.success(request, f"Template {form.cleaned_data['template']} queued on WhatsApp.")
    return redirect("web:case", case_id=case.pk)
