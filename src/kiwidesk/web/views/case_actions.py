"""Form posts on a case: reply on a thread, add a note, open a third-party thread, merge."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kiwidesk.accounts.models import Agent
from kiwidesk.cases import services
from kiwidesk.cases.content import AttachmentRefusedError
from kiwidesk.cases.models import Case, Party, Sensitivity, Thread
from kiwidesk.channels.common import OutsideMessagingWindowError
from kiwidesk.contacts.models import Contact
from kiwidesk.contacts.services import InvalidIdentityError, find_or_create_contact
from kiwidesk.privacy.access import CaseNotFoundError, Purpose, access_case, sensitivities_for
from kiwidesk.privacy.disclosure import (
    Disclosure,
    DisclosureNotConfirmedError,
    check_disclosure,
    record_disclosure,
)
from kiwidesk.web.forms import ComposeForm, MergeForm, NewThreadForm
from kiwidesk.web.views._common import agent_of, agent_required, case_or_404
from kiwidesk.web.views.case_page import _third_parties, case_context

# What a service may refuse because of what the agent typed: shown on the form, never a 500.
REFUSALS = (
    services.EmptyMessageError,
    AttachmentRefusedError,
    services.CaseMergedError,
    OutsideMessagingWindowError,
)


@require_POST
@agent_required
def reply(request: HttpRequest, case_id: int, thread_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.REPLY)
    thread = get_object_or_404(Thread, pk=thread_id, case=case, party__in=_PARTIES)
    form = ComposeForm(request.POST, request.FILES)
    warned: list[Disclosure] = []
    if form.is_valid():
        text = form.cleaned_data["text"]
        try:
            confirmed = check_disclosure(thread, text, confirmed="confirm_pii" in request.POST)
            services.reply(agent, thread, text=text, attachments=form.new_attachments())
            record_disclosure(agent, thread, confirmed)
        except DisclosureNotConfirmedError as warning:
            warned = warning.disclosures
            form.add_error(None, str(warning))
        except REFUSALS as refusal:
            form.add_error(None, str(refusal))
    if not form.is_valid():
        return refused(
            request, agent, case, compose_form=form, compose_thread_id=thread.pk, disclosures=warned
        )
    messages.success(
        request, f"Message to {thread.contact} queued on {thread.get_channel_display()}."
    )
    return redirect("web:case", case_id=case.pk)


_PARTIES = (Party.CUSTOMER, Party.THIRD_PARTY)


@require_POST
@agent_required
def add_note(request: HttpRequest, case_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.NOTE)
    form = ComposeForm(request.POST, request.FILES)
    sensitivity = request.POST.get("sensitivity") or Sensitivity.NORMAL
    if sensitivity not in sensitivities_for(agent):
        form.add_error(None, "Your clearance does not allow a note that sensitive.")
    if form.is_valid():
        try:
            services.add_note(
                agent,
                case,
                text=form.cleaned_data["text"],
                attachments=form.new_attachments(),
                sensitivity=sensitivity,
            )
        except REFUSALS as refusal:
            form.add_error(None, str(refusal))
    if not form.is_valid():
        return refused(request, agent, case, note_form=form)
    messages.success(request, "Note added.")
    return redirect("web:case", case_id=case.pk)


@require_POST
@agent_required
def open_thread(request: HttpRequest, case_id: int) -> HttpResponse:
    agent = agent_of(request)
    case = case_or_404(agent, case_id, Purpose.CHANGE)
    form = NewThreadForm(request.POST, third_parties=_third_parties())
    contact = _third_party(form) if form.is_valid() else None
    if contact is not None:
        try:
            _start_thread(agent, case, contact, form.cleaned_data)
        except REFUSALS as refusal:
            form.add_error(None, str(refusal))
    if not form.is_valid():
        return refused(request, agent, case, thread_form=form)
    messages.success(request, f"Thread with {contact} opened.")
    return redirect("web:case", case_id=case.pk)


def _third_party(form: NewThreadForm) -> Contact | None:
    chosen = form.cleaned_data.get("contact")
    if chosen is not None:
        contact = Contact.objects.filter(pk=chosen, is_third_party=True).first()
        if contact is None:
            form.add_error("contact", "That third party no longer exists.")
        return contact
    kind, value = form.identity()
    try:
        return find_or_create_contact(
            kind, value, name=form.cleaned_data["name"], is_third_party=True
        )
    except InvalidIdentityError as error:
        form.add_error(None, str(error))
        return None


def _start_thread(agent: Agent, case: Case, contact: Contact, cleaned: dict[str, Any]) -> None:
    # One transaction: a refused first message must not leave an empty thread behind.
    with transaction.atomic():
        thread = services.open_thread(
            agent, case, contact=contact, channel=cleaned["channel"], subject=cleaned["subject"]
        )
        if cleaned["text"].strip():
            services.reply(agent, thread, text=cleaned["text"])


@require_POST
@agent_required
def merge(request: HttpRequest, case_id: int) -> HttpResponse:
    agent = agent_of(request)
    source = case_or_404(agent, case_id, Purpose.MERGE)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return refused(request, agent, source, merge_form=form)
    try:
        target = access_case(agent, form.cleaned_data["target"], Purpose.MERGE)
        services.merge_cases(agent, source=source, target=target)
    except CaseNotFoundError:
        messages.error(request, f"There is no case #{form.cleaned_data['target']} you can open.")
        return redirect("web:case", case_id=source.pk)
    except services.MergeError as error:
        messages.error(request, f"Cannot merge: {error}.")
        return redirect("web:case", case_id=source.pk)
    messages.success(request, f"Case #{source.pk} was merged into this case.")
    return redirect("web:case", case_id=target.pk)


def refused(request: HttpRequest, agent: Agent, case: Case, **bound: Any) -> HttpResponse:
    return render(request, "web/case.html", case_context(agent, case.pk, **bound), status=400)
