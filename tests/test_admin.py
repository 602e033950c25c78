"""The admin is the support engineer's tool: every model has pages that open."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from kiwidesk.accounts.services import issue_token
from kiwidesk.cases import services
from kiwidesk.cases.content import NewAttachment
from kiwidesk.privacy.access import Purpose, access_case
from tests.factories.cases import customer_thread, make_case

KIWIDESK_MODELS = [
    model for model in admin.site._registry if model._meta.app_label in
    {"accounts", "contacts", "cases", "privacy"}
]  # fmt: skip


def test_every_kiwidesk_model_is_in_the_admin():
    names = {model.__name__ for model in KIWIDESK_MODELS}

    assert names == {
        "Agent", "Team", "ApiToken", "Organisation", "Contact", "Identity",
        "Case", "Thread", "Message", "Attachment", "Event", "Tag", "AuditRecord", "Call",
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("model", KIWIDESK_MODELS, ids=lambda model: model.__name__)
def test_admin_list_and_detail_pages_open(client, admin_agent, team, model):
    case = make_case(admin_agent, team=team, tags=["export"])
    log = NewAttachment("log.txt", "text/plain", b"stack trace")
    services.add_note(admin_agent, case, text="Checked the logs.", attachments=[log])
    services.log_call(
        admin_agent,
        customer_thread(case),
        details=services.CallDetails(
            direction="outbound", outcome="answered", party_number="+447700900123"
        ),
    )
    access_case(admin_agent, case.pk, Purpose.VIEW)
    issue_token(admin_agent)
    client.force_login(admin_agent)
    meta = model._meta
    first = model.objects.first()

    listing = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    detail = client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
    )

    assert listing.status_code == 200
    assert detail.status_code == 200


@pytest.mark.django_db
def test_agents_without_staff_rights_cannot_open_the_admin(client, agent):
    client.force_login(agent)

    response = client.get(reverse("admin:cases_case_changelist"))

    assert response.status_code == 302
