"""Break the glass on a case above your clearance, and close it again."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from kiwidesk.cases.models import Case
from kiwidesk.privacy import break_glass
from kiwidesk.privacy.access import CaseNotFoundError
from kiwidesk.privacy.break_glass import AlreadyClearedError, BreakGlassRefusedError
from kiwidesk.web.views._common import agent_of, agent_required, break_glass_page


@require_http_methods(["GET", "POST"])
@agent_required
def open_break_glass(request: HttpRequest, case_id: int) -> HttpResponse:
    """GET: the form, for a case the agent may open but that holds content above them."""
    agent = agent_of(request)
    case = Case.objects.filter(pk=case_id).first()
    if case is None or not agent.is_active:
        raise Http404("No such case")
    if request.method == "GET":
        if not break_glass.needs_break_glass(agent, case):
            return redirect("web:case", case_id=case_id)
        return break_glass_page(request, case_id, break_glass.highest_sensitivity(case), True)
    reason = request.POST.get("reason", "")
    minutes = request.POST.get("minutes", "")
    try:
        grant = break_glass.open_grant(
            agent, case_id, reason=reason, minutes=int(minutes) if minutes.isdigit() else 0
        )
    except CaseNotFoundError:
        raise Http404("No such case") from None
    except AlreadyClearedError:
        return redirect("web:case", case_id=case_id)
    except BreakGlassRefusedError as refusal:
        sensitivity = break_glass.highest_sensitivity(case)
        return break_glass_page(
            request, case_id, sensitivity, True, error=str(refusal), reason=reason
        )
    messages.warning(
        request,
        f"Break-glass: case #{case_id} is open to you until {grant.expires_at:%H:%M} UTC. "
        "Your team's leads have been told.",
    )
    return redirect("web:case", case_id=case_id)


@require_POST
@agent_required
def end_break_glass(request: HttpRequest, case_id: int) -> HttpResponse:
    if break_glass.end_grant(agent_of(request), case_id):
        messages.success(request, f"Break-glass on case #{case_id} ended.")
    return redirect("web:inbox")
