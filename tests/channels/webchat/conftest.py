"""A chat with a visitor, started the way the widget starts one."""

from __future__ import annotations

from typing import Any

import pytest

from kiwidesk.accounts.models import Team
from kiwidesk.channels.webchat import services
from kiwidesk.channels.webchat.models import ChatSession

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SITE = "https://www.customer-site.test"


@pytest.fixture(autouse=True)
def _chat_settings(settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    settings.KIWIDESK_CHAT_ORIGINS = [SITE]
    settings.KIWIDESK_CHAT_IDLE_MINUTES = 10
    settings.KIWIDESK_EMAIL_FROM = "Kiwidesk <support@kiwidesk.test>"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def started(team: Team) -> services.StartedChat:
    return services.start_session(team_slug=team.slug, origin=SITE)


@pytest.fixture
def chat(started: services.StartedChat) -> ChatSession:
    return started.session


def mailed_code(mail: Any) -> str:
    """The code in a code mail (its subject starts with it)."""
    return str(mail.subject.split()[0])
