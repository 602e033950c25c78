"""The case page: header, threads, timeline and composers; the header edits in place."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.models import Attachment, Case, Channel, Event, Message, Party, Thread
from kiwidesk.cases.queries import (
    case_for_page,
    case_threads,
    case_timeline,
    delivery_errors,
    last_directions,
    suggested_merges,
)
from kiwidesk.channels.common import messaging_window_closes_at
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.access import (
    Purpose,
    active_grant,
    content_scope,
    mark_content_shown,
    may,
    sensitivities_for,
    visible_cases,
)
from kiwidesk.privacy.break_glass import needs_break_glass
from kiwidesk.sla.queries import case_clocks, clock_readings
from kiwidesk.web.forms import (
    CaseHeaderForm,
    ComposeForm,
    MergeForm,
    NewThreadForm,
    TemplateForm,
)
from kiwidesk.web.views._common import HtmxHttpRequest, agent_of, agent_required, case_or_404

# The picker is a shortcut; any other third party is found by its email or phone.
THIRD_PARTY_CHOICES = 100


@require_GET
@agent_required
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    agent = agent_of(request)
    case_or_404(agent, case_id, Purpose.VIEW)
    return render(request, "web/case.html", case_context(agent, case_id))


@require_POST
@agent_required
def update_header(request: HtmxHttpRequest, case_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.CHANGE)
    form = CaseHeaderForm(request.POST, case=case, sensitivities=sensitivities_for(agent))
    if not form.is_valid():
        return _header_refused(request, agent, case_id, form)
    try:
        services.update_case(agent, case, form.changes())
    except services.CaseMergedError:
        messages.error(request, "This case was merged into another one; change that case.")
        return redirect("web:case", case_id=case_id)
    if request.htmx:
        context = case_context(agent, case_id)
        context["header_saved"] = True
        return render(request, "web/_case_header_swap.html", context)
    messages.success(request, "Case updated.")
    return redirect("web:case", case_id=case_id)


def _header_refused(
    request: HtmxHttpRequest, agent: Agent, case_id: int, form: CaseHeaderForm
) -> HttpResponse:
    context = case_context(agent, case_id, header_form=form)
    if request.htmx:
        # htmx swaps only successful responses, so the refused form comes back as 200.
        return render(request, "web/_case_header.html", context)
    return render(request, "web/case.html", context, status=400)


@require_GET
@agent_required
def attachment(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.VIEW)
    stored = get_object_or_404(
        Attachment.objects.select_related("message"), pk=attachment_id, message__case=case
    )
    if not content_scope(agent, case).shows(stored.message.sensitivity):
        raise Http404("No such attachment")
    return _download(stored.file, filename=stored.filename)


@require_GET
@agent_required
def message_original(request: HttpRequest, case_id: int, message_id: int) -> FileResponse:
    """The message exactly as it arrived (the whole MIME mail, the webhook body).

    Its personal data is unmasked, so the download is a reveal.
    """
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.REVEAL)
    message = get_object_or_404(
        Message.objects.select_related("thread").exclude(raw_file=""), pk=message_id, case=case
    )
    if not content_scope(agent, case).shows(message.sensitivity):
        raise Http404("No such message")
    if message.thread.channel == Channel.EMAIL:
        return _download(
            message.raw_file, filename=f"message-{message.pk}.eml", content_type="message/rfc822"
        )
    return _download(message.raw_file, filename=f"message-{message.pk}-original.txt")


def _download(
    file: FieldFile, *, filename: str, content_type: str = "application/octet-stream"
) -> FileResponse:
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage") from None
    # Always a download, never rendered inline: the bytes came from outside.
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


def case_context(agent: Agent, case_id: int, **forms: Any) -> dict[str, Any]:
    """Everything the case page shows, in a fixed number of queries."""
    case = case_for_page(visible_cases(agent), case_id)
    if case is None:
        raise Http404("No such case")
    threads = _threads_with_waiting(case)
    timeline = _timeline_with_deliveries(case)
    messages = [event.message for event in timeline if event.message is not None]
    withheld = mark_content_shown(agent, case, messages)
    context: dict[str, Any] = {
        "case": case,
        "threads": threads,
        "timeline": timeline,
        "grant": active_grant(agent, case.pk),
        "withheld_count": withheld,
        "may_break_glass": withheld > 0 and needs_break_glass(agent, case),
        "may_reply": may(agent, Purpose.REPLY),
        "may_note": may(agent, Purpose.NOTE),
        "may_change": may(agent, Purpose.CHANGE),
        "may_reveal": may(agent, Purpose.REVEAL),
        "note_sensitivities": sensitivities_for(agent),
        "suggested_merges": suggested_merges(visible_cases(agent), case, timeline),
        "header_form": CaseHeaderForm(case=case, sensitivities=sensitivities_for(agent)),
        "compose_form": ComposeForm(),
        "note_form": ComposeForm(),
        "thread_form": NewThreadForm(third_parties=_third_parties()),
        "merge_form": MergeForm(),
        "template_form": TemplateForm(),
        "compose_thread_id": None,
        "clocks": clock_readings(case_clocks(case), now=timezone.now()),
    }
    context.update(forms)
    return context


def _timeline_with_deliveries(case: Case) -> list[Event]:
    timeline = list(case_timeline(case))
    errors = delivery_errors(timeline)
    for event in timeline:
        if event.message is not None:
            event.message.delivery_error = errors.get(event.message.pk, "")  # type: ignore[attr-defined]
    return timeline


def _threads_with_waiting(case: Case) -> list[Thread]:
    threads = case_threads(case)
    directions = last_directions(case)
    shown = [thread for thread in threads if thread.party != Party.INTERNAL]
    for thread in shown:
        thread.last_direction = directions.get(thread.pk, "")  # type: ignore[attr-defined]
        thread.composer_id = f"reply-{thread.pk}"  # type: ignore[attr-defined]
        if thread.channel == Channel.WHATSAPP:
            _add_messaging_window(thread)
    first_customer = next((t for t in shown if t.party == Party.CUSTOMER), None)
    if first_customer is not None:
        # The "r" shortcut focuses this composer.
        first_customer.composer_id = "reply-customer"  # type: ignore[attr-defined]
    return shown


def _add_messaging_window(thread: Thread) -> None:
    """Tell the composer whether free text may go, and until when (WhatsApp's 24 hours)."""
    closes_at = messaging_window_closes_at(thread)
    thread.window_closes_at = closes_at  # type: ignore[attr-defined]
    thread.window_open = closes_at is not None and timezone.now() < closes_at  # type: ignore[attr-defined]


def _third_parties() -> list[tuple[int, str]]:
    return list(
        Contact.objects.filter(is_third_party=True)
        .order_by("name")
        .values_list("pk", "name")[:THIRD_PARTY_CHOICES]
    )
