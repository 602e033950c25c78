"""Small helpers every screen shares: who is asking, and what a refused case shows.

A missing case is a 404; a case above the agent's clearance is the break-glass page;
clinical content without a verified second factor sends the agent to verify; an
action the role never may is a 403 that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.middleware import HtmxDetails

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case
from kiwidesk.privacy.access import (
    ActionNotAllowedError,
    CaseNotFoundError,
    ClearanceRequiredError,
    SecondFactorRequiredError,
    access_case,
)
from kiwidesk.privacy.break_glass import DURATIONS

View = Callable[..., HttpResponseBase]


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it, for the type checker."""

    htmx: HtmxDetails


def agent_required(view: View) -> View:
    """Let through only a logged-in, active agent; others go to the login page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_active:
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except ClearanceRequiredError as refusal:
            return break_glass_page(
                request, refusal.case_id, refusal.sensitivity, refusal.may_break_glass
            )
        except SecondFactorRequiredError:
            if request.method == "GET":
                verify = reverse("account:verify")
                return redirect(f"{verify}?{urlencode({'next': request.get_full_path()})}")
            return forbidden(request, "Clinical content needs a verified second factor.")
        except ActionNotAllowedError as refusal:
            return forbidden(request, str(refusal))

    return wrapped


def agent_of(request: HttpRequest) -> Agent:
    user = request.user
    assert isinstance(user, Agent)  # noqa: S101 -- agent_required guarantees it
    return user


def case_or_404(agent: Agent, case_id: int, purpose: str) -> Case:
    """Pass the access gate; a missing case is a 404, other refusals `agent_required` shows."""
    try:
        return access_case(agent, case_id, purpose)
    except ClearanceRequiredError:
        raise
    except CaseNotFoundError:
        raise Http404("No such case") from None


def break_glass_page(
    request: HttpRequest,
    case_id: int,
    sensitivity: str,
    may_break_glass: bool,
    *,
    error: str = "",
    reason: str = "",
) -> HttpResponse:
    context = {
        "case_id": case_id,
        "sensitivity": sensitivity,
        "may_break_glass": may_break_glass,
        "durations": DURATIONS,
        "error": error,
        "reason": reason,
    }
    return render(request, "web/break_glass.html", context, status=400 if error else 403)


def forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {"reason": reason}, status=403)
