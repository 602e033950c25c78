"""Log a case for a customer, typically while they are on the phone."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kiwidesk.cases import services
from kiwidesk.contacts.services import InvalidIdentityError, find_or_create_contact
from kiwidesk.web.forms import NewCaseForm
from kiwidesk.web.views._common import agent_of, agent_required


@agent_required
def new_case(request: HttpRequest) -> HttpResponse:
    form = NewCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kind, value = form.identity()
            customer = find_or_create_contact(kind, value, name=form.cleaned_data["name"])
        except InvalidIdentityError as error:
            form.add_error(None, str(error))
        else:
            case = services.open_case(
                agent_of(request),
                customer=customer,
                subject=form.cleaned_data["subject"],
                message_text=form.cleaned_data["text"],
                channel=form.cleaned_data["channel"],
                priority=form.cleaned_data["priority"],
                team=form.cleaned_data["team"],
                assignee=form.cleaned_data["assignee"],
            )
            messages.success(request, f"Case #{case.pk} opened.")
            return redirect("web:case", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/new_case.html", {"form": form}, status=status)
