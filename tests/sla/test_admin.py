"""Calendars and policies are edited in the admin; clocks are only looked at there."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kiwidesk.accounts.models import Agent
from kiwidesk.cases.models import Priority
from kiwidesk.sla import services
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import BusinessCalendar, Clock, Policy, Target
from tests.factories.cases import make_case


@pytest.fixture
def configured(db: None) -> dict[str, Any]:
    office = BusinessCalendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={"0": [["09:00", "17:00"]]},
    )
    policy = Policy.objects.create(name="Standard", calendar=office)
    Target.objects.create(
        policy=policy, metric=Metric.FIRST_REPLY, priority=Priority.NORMAL, minutes=60
    )
    case = make_case()
    services.recompute_case(case.pk)
    return {
        "businesscalendar": office,
        "policy": policy,
        "clock": Clock.objects.get(case=case),
    }


@pytest.mark.parametrize("model", ["businesscalendar", "policy", "clock"])
def test_sla_admin_list_and_detail_pages_open(
    client: Client, admin_agent: Agent, configured: dict[str, Any], model: str
) -> None:
    client.force_login(admin_agent)

    listing = client.get(reverse(f"admin:sla_{model}_changelist"))
    detail = client.get(reverse(f"admin:sla_{model}_change", args=[configured[model].pk]))

    assert (listing.status_code, detail.status_code) == (200, 200)


def test_clocks_cannot_be_added_or_edited_in_the_admin(
    client: Client, admin_agent: Agent, configured: dict[str, Any]
) -> None:
    clock = configured["clock"]
    client.force_login(admin_agent)

    added = client.get(reverse("admin:sla_clock_add"))
    edited = client.post(reverse("admin:sla_clock_change", args=[clock.pk]), {"state": "achieved"})

    clock.refresh_from_db()
    assert (added.status_code, edited.status_code, clock.state) == (403, 403, "active")
