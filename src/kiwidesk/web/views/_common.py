"""Small helpers every screen shares: who is asking, and the 404 for a refused case."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django_htmx.middleware import HtmxDetails

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Case
from kiwidesk.privacy.access import CaseNotFoundError, access_case

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
        return view(request, *args, **kwargs)

    return wrapped


def agent_of(request: HttpRequest) -> Agent:
    user = request.user
    assert isinstance(user, Agent)  # noqa: S101 -- agent_required guarantees it
    return user


def case_or_404(agent: Agent, case_id: int, purpose: str) -> Case:
    """Pass the access gate, or answer 404 for a missing and a forbidden case alike."""
    try:
        return access_case(agent, case_id, purpose)
    except CaseNotFoundError:
        raise Http404("No such case") from None
