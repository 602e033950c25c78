"""Log in with email and password, then a code for agents with an authenticator app.

Password alone never leaves a session verified: an agent with a confirmed app is not
logged in until the code is right (account:verify). Locked-out logins (django-axes)
come back to the login page with a message.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import urlencode

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.two_factor import confirmed_device
from kiwidesk.web.forms import LoginForm

PENDING_AGENT_KEY = "kiwidesk_pending_agent"
PENDING_BACKEND_KEY = "kiwidesk_pending_backend"
PENDING_AT_KEY = "kiwidesk_pending_at"
PENDING_SECONDS = 300  # the code must follow the password within five minutes


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        agent = form.get_user()
        if confirmed_device(agent) is None:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_AGENT_KEY] = agent.pk
        self.request.session[PENDING_BACKEND_KEY] = agent.backend
        self.request.session[PENDING_AT_KEY] = time.time()
        query = urlencode({"next": self.get_success_url()})
        return redirect(f"/account/verify/?{query}")


def pending_agent(request: HttpRequest) -> tuple[Agent, str] | None:
    """The agent who gave the right password and still owes a code, with their backend."""
    session = request.session
    started_at = session.get(PENDING_AT_KEY)
    if started_at is None or time.time() - started_at > PENDING_SECONDS:
        return None
    agent_id = session.get(PENDING_AGENT_KEY)
    agent = Agent.objects.filter(pk=agent_id, is_active=True).first() if agent_id else None
    if agent is None:
        return None
    return agent, str(session.get(PENDING_BACKEND_KEY))


def forget_pending_agent(request: HttpRequest) -> None:
    for key in (PENDING_AGENT_KEY, PENDING_BACKEND_KEY, PENDING_AT_KEY):
        request.session.pop(key, None)


class LogoutView(auth_views.LogoutView):
    pass


def locked_out(
    request: HttpRequest, original_response: HttpResponseBase | None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login: the login page, saying why and how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # Unbound: validating the form again would count as one more failed login.
    form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    message = (
        f"Too many failed logins for this email from your network. Try again in {minutes} "
        "minutes, or ask an administrator to unlock the account."
    )
    context = {"form": form, "locked_out_message": message, "next": request.GET.get("next", "")}
    return render(request, "web/login.html", context, status=429)
