"""What every page says about the agent's second factor (a template context processor)."""

from __future__ import annotations

from django.http import HttpRequest

from kiwidesk.accounts.models import Agent, Clearance
from kiwidesk.accounts.two_factor import confirmed_device


def second_factor(request: HttpRequest) -> dict[str, str]:
    """`second_factor_prompt`: "enrol" or "verify" for a clinical agent who must act, else "".

    Clinical content opens only in a verified session, so a clinical agent without an
    app, or with one but an unverified session, is told so on every page.
    """
    agent = getattr(request, "user", None)
    if not isinstance(agent, Agent) or agent.clearance != Clearance.CLINICAL:
        return {"second_factor_prompt": ""}
    if agent.is_verified():  # type: ignore[attr-defined]
        return {"second_factor_prompt": ""}
    return {"second_factor_prompt": "verify" if confirmed_device(agent) else "enrol"}
