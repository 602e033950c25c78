"""The agent's own security: the authenticator app, the code check, their API tokens."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kiwidesk.accounts.models import Agent, ApiToken, Clearance, Scope
from kiwidesk.accounts.services import (
    TokenRefusedError,
    has_second_factor,
    issue_token,
    revoke_token,
    tokens_of,
)
from kiwidesk.accounts.two_factor import (
    check_code,
    confirm_device,
    confirmed_device,
    enrolment_device,
    remove_second_factor,
    secret_text,
)
from kiwidesk.web.forms import CodeForm, NewTokenForm
from kiwidesk.web.views.auth import forget_pending_agent, pending_agent


def verify(request: HttpRequest) -> HttpResponseBase:
    """Second step of a login, or a logged-in session proving the second factor later."""
    next_url = _safe_next(request)
    pending = None if request.user.is_authenticated else pending_agent(request)
    agent = request.user if request.user.is_authenticated else pending and pending[0]
    if not isinstance(agent, Agent):
        return redirect(reverse("web:login") + "?" + request.GET.urlencode())
    device = confirmed_device(agent)
    if device is None:
        messages.info(request, "Set up an authenticator app first.")
        return redirect("account:two_factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = check_code(device, form.token())
        if result.is_accepted:
            if pending is not None:
                forget_pending_agent(request)
                auth_login(request, agent, backend=pending[1])
            otp_login(request, device)
            return redirect(next_url)
        form.add_error("code", result.message)
    return render(request, "web/account/verify.html", {"form": form, "next": next_url})


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:inbox")


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app (scan, then confirm with a code), or remove it."""
    agent = request.user
    assert isinstance(agent, Agent)  # noqa: S101 - login_required and AUTH_USER_MODEL
    device = confirmed_device(agent)
    if device is not None:
        return _enrolled_page(request, agent, device)
    device = enrolment_device(agent)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = confirm_device(device, form.token())
        if result.is_accepted:
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is on.")
            return redirect("account:two_factor")
        form.add_error("code", result.message)
    context = {
        "form": form,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=5, border=2),
        "secret": secret_text(device),
    }
    return render(request, "web/account/two_factor.html", context)


def _enrolled_page(request: HttpRequest, agent: Agent, device: TOTPDevice) -> HttpResponse:
    """Removing the app takes a current code, so a borrowed session cannot do it."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = check_code(device, form.token())
        if result.is_accepted:
            remove_second_factor(agent)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("account:two_factor")
        form.add_error("code", result.message)
    return render(request, "web/account/two_factor.html", {"form": form, "device": device})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List, create (secret shown once, on this response only) and revoke own tokens."""
    agent = request.user
    assert isinstance(agent, Agent)  # noqa: S101 - login_required and AUTH_USER_MODEL
    form = NewTokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        scopes = form.cleaned_data["scopes"]
        if _needs_verifying(request, agent, scopes):
            form.add_error("scopes", "Verify your second factor before issuing a clinical token.")
        else:
            try:
                issued = issue_token(
                    agent,
                    name=form.cleaned_data["name"],
                    scopes=scopes,
                    days=form.cleaned_data["days"],
                )
            except TokenRefusedError as refusal:
                form.add_error("scopes", str(refusal))
            else:
                secret = issued.secret
                form = NewTokenForm()
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "tokens": tokens_of(agent), "secret": secret}
    return render(request, "web/account/tokens.html", context, status=status)


def _needs_verifying(request: HttpRequest, agent: Agent, scopes: list[str]) -> bool:
    """A clinical token is a second factor, so only a verified session may mint one.

    Clearance and the app itself are the service's rules (issue_token says which fails).
    """
    if Scope.CLINICAL not in scopes or agent.clearance != Clearance.CLINICAL:
        return False
    return has_second_factor(agent) and not request.user.is_verified()  # type: ignore[union-attr]


@login_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, agent=request.user)
    revoke_token(token)
    messages.success(request, f"Token {token.prefix}… revoked: it no longer works.")
    return redirect("account:tokens")
