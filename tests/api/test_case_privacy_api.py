"""The API's private side: masked messages, reveal, break-glass, disclosure, sensitivity."""

from __future__ import annotations

import pytest

from kiwidesk.accounts.models import Clearance, Role
from kiwidesk.accounts.services import issue_token
from kiwidesk.cases import services
from kiwidesk.cases.models import Sensitivity
from kiwidesk.privacy.models import AuditRecord
from tests.api.conftest import ApiClient
from tests.factories.accounts import AgentFactory
from tests.factories.cases import customer_thread, make_case
from tests.factories.contacts import ContactFactory

PHONE = "+44 20 7946 0958"
REASON = "Covering the queue: the customer is waiting on the phone"


@pytest.mark.django_db(databases="__all__")
def test_messages_come_masked_and_the_original_is_an_audited_read(api, agent):
    case = make_case(message_text=f"Call me on {PHONE}")

    [message] = api.get(f"/cases/{case.pk}/messages").json()
    original = api.get(f"/cases/{case.pk}/messages/{message['id']}/original").json()

    assert (message["text"], message["redacted"], message["html"]) == (
        "Call me on [phone number]",
        True,
        "",
    )
    assert original["text"] == f"Call me on {PHONE}"
    assert original["pii"] == [{"type": "phone", "start": 11, "end": 11 + len(PHONE)}]
    assert AuditRecord.objects.filter(
        action="pii.reveal", object_type="message", object_id=str(message["id"]), actor=agent
    ).exists()


@pytest.mark.django_db(databases="__all__")
def test_a_clinical_note_is_withheld_from_an_uncleared_caller(api):
    case = make_case()
    author = AgentFactory(clearance=Clearance.CLINICAL)
    note = services.add_note(author, case, text="Medication change", sensitivity="clinical")

    listed = {m["id"]: m for m in api.get(f"/cases/{case.pk}/messages").json()}
    original = api.get(f"/cases/{case.pk}/messages/{note.pk}/original")

    assert (listed[note.pk]["withheld"], listed[note.pk]["text"]) == (True, "")
    assert listed[note.pk]["sensitivity"] == "clinical"
    assert original.status_code == 404


@pytest.mark.django_db(databases="__all__")
def test_a_note_above_the_callers_clearance_is_refused(api):
    case = make_case()

    response = api.post(f"/cases/{case.pk}/notes", {"text": "x", "sensitivity": "clinical"})

    assert response.status_code == 403
    assert "clearance" in response.json()["detail"]


@pytest.mark.django_db(databases="__all__")
def test_break_glass_over_the_api(api, agent):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    refused = api.get(f"/cases/{case.pk}")
    assert refused.status_code == 403
    assert f"/api/v1/cases/{case.pk}/break-glass" in refused.json()["detail"]

    short = api.post(f"/cases/{case.pk}/break-glass", {"reason": "hm"})
    assert short.status_code == 422

    grant = api.post(f"/cases/{case.pk}/break-glass", {"reason": REASON, "minutes": 15})
    assert grant.status_code == 201
    assert grant.json()["reason"] == REASON
    assert api.get(f"/cases/{case.pk}").status_code == 200

    ended = api.client.delete(f"/api/v1/cases/{case.pk}/break-glass", headers=api.headers)
    assert ended.status_code == 204
    assert api.get(f"/cases/{case.pk}").status_code == 403


@pytest.mark.django_db(databases="__all__")
def test_a_reply_disclosing_personal_data_needs_confirming(api, agent):
    case = make_case(message_text=f"My number is {PHONE}")
    restaurant = ContactFactory(is_third_party=True)
    thread = services.open_thread(agent, case, contact=restaurant, channel="email")
    text = f"Guest's number: {PHONE}"

    warned = api.post(f"/threads/{thread.pk}/messages", {"text": text})
    assert warned.status_code == 409
    assert warned.json()["disclosures"] == [{"type": "phone", "start": 16, "end": 32}]
    assert PHONE not in warned.content.decode()
    assert not thread.messages.exists()

    sent = api.post(f"/threads/{thread.pk}/messages", {"text": text, "confirm_pii": True})
    assert sent.status_code == 201
    assert sent.json()["text"] == "Guest's number: [phone number]"


@pytest.mark.django_db(databases="__all__")
def test_a_qa_reviewer_token_reads_but_cannot_reply(client):
    reviewer = AgentFactory(role=Role.QA)
    api = ApiClient(client, issue_token(reviewer).secret)
    case = make_case()

    assert api.get(f"/cases/{case.pk}/messages").status_code == 200
    response = api.post(f"/threads/{customer_thread(case).pk}/messages", {"text": "Hello from QA"})

    assert response.status_code == 403
    assert response.json()["detail"] == "A QA reviewer may not write to customers or third parties."


@pytest.mark.django_db(databases="__all__")
def test_marking_a_message_confidential_over_the_api(api, agent):
    agent.clearance = Clearance.CONFIDENTIAL
    agent.save()
    case = make_case()
    message_id = api.get(f"/cases/{case.pk}/messages").json()[0]["id"]

    response = api.client.put(
        f"/api/v1/cases/{case.pk}/messages/{message_id}/sensitivity",
        {"sensitivity": "confidential"},
        content_type="application/json",
        headers=api.headers,
    )

    assert response.status_code == 200
    assert response.json()["sensitivity"] == "confidential"


@pytest.mark.django_db(databases="__all__")
def test_a_clinical_case_needs_a_token_with_the_clinical_scope(client, clinical_agent):
    plain = ApiClient(client, issue_token(clinical_agent).secret)
    case = make_case(sensitivity=Sensitivity.CLINICAL)

    response = plain.get(f"/cases/{case.pk}")

    assert response.status_code == 403
    assert "needs a second factor" in response.json()["detail"]
    assert plain.get("/cases").json()["items"] == []
