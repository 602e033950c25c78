from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone
from django_tasks import default_task_backend

from kiwidesk.channels.webchat import services, tasks
from kiwidesk.channels.webchat.models import ChatSession, EndReason

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_the_idle_check_ends_a_chat_whose_visitor_went_quiet(chat: ChatSession):
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        ended = tasks.end_chat_if_idle.call(chat.pk)

    chat.refresh_from_db()
    assert ended is True
    assert chat.end_reason == EndReason.IDLE


def test_the_idle_check_of_a_chat_still_going_looks_again_later(chat: ChatSession, settings):
    settings.TASKS = DUMMY_TASKS
    seen_at = timezone.now() + timedelta(minutes=4)
    services.mark_seen(chat, at=seen_at)

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        ended = tasks.end_chat_if_idle.call(chat.pk)

    [queued] = default_task_backend.results
    assert ended is False
    assert (queued.task.name, queued.args) == ("end_chat_if_idle", [chat.pk])
    assert queued.task.run_after == seen_at + timedelta(minutes=10)


def test_the_sweep_ends_every_idle_chat(chat: ChatSession, team):
    active = services.start_session(team_slug=team.slug, origin="").session
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        services.mark_seen(active)

        ended = tasks.end_idle_chats.call()

    assert ended == [chat.pk]
