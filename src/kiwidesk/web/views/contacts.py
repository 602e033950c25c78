"""A contact: their addresses, organisation and the cases this agent may see."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from kiwidesk.cases.queries import contact_cases
from kiwidesk.contacts.models import Contact
from kiwidesk.privacy.access import may_exercise_rights, visible_cases
from kiwidesk.web.views._common import agent_of, agent_required

CASE_HISTORY_LIMIT = 200


@require_GET
@agent_required
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(
        Contact.objects.select_related("organisation").prefetch_related("identities"),
        pk=contact_id,
    )
    agent = agent_of(request)
    cases = contact_cases(visible_cases(agent), contact.pk)
    rows = list(cases[: CASE_HISTORY_LIMIT + 1])
    return render(
        request,
        "web/contact.html",
        {
            "contact": contact,
            "cases": rows[:CASE_HISTORY_LIMIT],
            "has_more_cases": len(rows) > CASE_HISTORY_LIMIT,
            "may_exercise_rights": may_exercise_rights(agent),
        },
    )
