"""The case page's clock countdown recounts itself in the browser, without a reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kiwidesk.cases.models import Priority
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from tests.browser.test_agent_flow import log_in
from tests.factories.cases import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_running_clock_turns_overdue_on_the_open_page(page: Page, live_server, agent):
    policy = Policy.objects.create(name="Standard")
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.NORMAL, minutes=60,
        is_business_time=False,
    )  # fmt: skip
    case = make_case()
    now = timezone.now()
    Clock.objects.create(
        case=case, policy=policy, metric=Metric.FIRST_REPLY, state="active",
        started_at=now - timedelta(minutes=50), due_at=now + timedelta(minutes=10, seconds=30),
    )  # fmt: skip
    log_in(page, live_server.url, agent.email)
    page.clock.install(time=now)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    clock = page.locator("#clocks li.clock")
    expect(clock).to_contain_text("First reply")
    expect(clock).to_contain_text("At risk")
    expect(clock).to_contain_text("due in 10 min")

    page.clock.fast_forward("12:00")

    expect(clock).to_contain_text("Breached")
    expect(clock).to_contain_text("overdue by 1 min")
    expect(clock).to_have_class("clock clock-breached")
