from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kiwidesk.cases import events, services
from kiwidesk.cases.content import NewAttachment
from kiwidesk.cases.models import Attachment, EventKind, Priority, Sensitivity, Status
from kiwidesk.privacy.models import AuditOutcome, AuditRecord
from tests.factories.accounts import AgentFactory
from tests.factories.cases import customer_thread, make_case, make_third_party_thread
from tests.web.conftest import log_in


def audit_outcomes(case) -> list[str]:
    return list(
        AuditRecord.objects.filter(object_type="case", object_id=str(case.pk)).values_list(
            "outcome", flat=True
        )
    )


def header_post(case, **changes) -> dict[str, str]:
    fields = {
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "assignee": "",
        "team": "",
        "tags": "",
        "category": "",
        "sensitivity": case.sensitivity,
        "due_at": "",
    }
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    ("role", "expected_status", "expected_audit"),
    [
        ("anonymous", 302, []),
        ("inactive", 302, []),
        ("agent", 403, [AuditOutcome.DENIED]),  # the break-glass page
        ("clinical_agent", 200, [AuditOutcome.GRANTED]),
    ],
)
@pytest.mark.django_db
def test_case_page_authorization_matrix(client, request, role, expected_status, expected_audit):
    case = make_case(sensitivity=Sensitivity.CLINICAL)
    actor = {
        "anonymous": None,
        "inactive": AgentFactory(is_active=False),
        "agent": request.getfixturevalue("agent"),
        "clinical_agent": request.getfixturevalue("clinical_agent"),
    }[role]
    log_in(client, actor)

    response = client.get(f"/cases/{case.pk}/")

    assert response.status_code == expected_status
    assert audit_outcomes(case) == expected_audit


@pytest.mark.django_db
def test_missing_case_is_a_friendly_404(agent_client):
    response = agent_client.get("/cases/999999/")

    assert response.status_code == 404
    assert b"There is nothing here you can open" in response.content


@pytest.mark.django_db
def test_case_page_shows_header_threads_and_timeline(agent_client, agent):
    case = make_case(subject="Table for six in Antigua", message_text="Need a table on Monday.")
    make_third_party_thread(agent, case, name="Harbour View Restaurant")

    response = agent_client.get(f"/cases/{case.pk}/")

    assert response.status_code == 200
    assert b'<h1 id="case-title">Table for six in Antigua</h1>' in response.content
    assert b"<p>Need a table on Monday.</p>" in response.content
    assert b"Third party thread opened on Phone" in response.content
    assert b"Harbour View Restaurant" in response.content


@pytest.mark.django_db
def test_thread_says_who_is_waiting_for_whom(agent_client, agent):
    case = make_case()
    vendor = make_third_party_thread(agent, case)
    services.reply(agent, vendor, text="Do you have a table for six?")

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"The customer is waiting for us" in response.content
    assert b"We are waiting for the third party" in response.content


@pytest.mark.django_db
def test_plain_text_message_is_escaped(agent_client):
    case = make_case(message_text="<b>not bold</b>")

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"&lt;b&gt;not bold&lt;/b&gt;" in response.content


@pytest.mark.django_db
def test_html_message_keeps_formatting_but_loses_scripts(agent_client):
    case = make_case()
    services.receive_message(
        customer_thread(case),
        text="",
        html='<p>Hi <b>there</b></p><script>window.__pwned=1</script><img src=x onerror="x()">',
    )

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"<p>Hi <b>there</b></p>" in response.content
    assert b"__pwned" not in response.content
    assert b"onerror" not in response.content


@pytest.mark.django_db
def test_header_form_changes_status_and_records_the_event(agent_client):
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/header/", header_post(case, status=Status.PENDING_CUSTOMER)
    )

    case.refresh_from_db()
    assert response.status_code == 302
    assert case.status == Status.PENDING_CUSTOMER
    assert case.events.filter(kind=EventKind.STATUS_CHANGED).count() == 1


@pytest.mark.django_db
def test_header_form_changes_only_what_changed(agent_client, agent, team):
    case = make_case()

    agent_client.post(
        f"/cases/{case.pk}/header/",
        header_post(case, assignee=str(agent.pk), team=str(team.pk), tags="VIP, travel"),
    )

    case.refresh_from_db()
    assert (case.assignee, case.team) == (agent, team)
    assert sorted(case.tags.values_list("name", flat=True)) == ["travel", "vip"]
    assert sorted(case.events.values_list("kind", flat=True)) == sorted(
        [
            EventKind.CASE_OPENED,
            EventKind.MESSAGE_RECEIVED,
            EventKind.ASSIGNED,
            EventKind.TEAM_CHANGED,
            EventKind.TAGS_CHANGED,
        ]
    )


@pytest.mark.django_db
def test_htmx_header_edit_swaps_the_header_and_the_timeline(agent_client):
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/header/",
        header_post(case, priority=Priority.URGENT),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.content.startswith(b'<section id="case-header"')
    assert (
        b'id="timeline" class="timeline" aria-labelledby="timeline-title" hx-swap-oob="true"'
        in (response.content)
    )
    assert b"Priority: Normal \xe2\x86\x92 Urgent" in response.content


@pytest.mark.django_db
def test_header_form_sets_the_due_date(agent_client):
    case = make_case()

    agent_client.post(f"/cases/{case.pk}/header/", header_post(case, due_at="2026-12-01T09:30"))

    case.refresh_from_db()
    assert case.due_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_saving_an_unchanged_header_records_no_event(agent_client, agent):
    case = make_case()
    services.update_case(agent, case, {"due_at": datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)})
    events_before = case.events.count()

    agent_client.post(f"/cases/{case.pk}/header/", header_post(case, due_at="2026-12-01T09:30"))

    assert case.events.count() == events_before


@pytest.mark.django_db
def test_header_form_with_a_bad_value_changes_nothing(agent_client):
    case = make_case()

    response = agent_client.post(f"/cases/{case.pk}/header/", header_post(case, status="lost"))

    case.refresh_from_db()
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert case.status == Status.NEW


@pytest.mark.django_db
def test_agent_cannot_mark_a_case_above_their_clearance(agent_client):
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.pk}/header/", header_post(case, sensitivity=Sensitivity.CLINICAL)
    )

    case.refresh_from_db()
    assert response.status_code == 400
    assert case.sensitivity == Sensitivity.NORMAL


@pytest.mark.django_db
def test_header_edit_of_a_case_above_clearance_is_refused_and_changes_nothing(agent_client):
    case = make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    response = agent_client.post(
        f"/cases/{case.pk}/header/", header_post(case, status=Status.SOLVED)
    )

    case.refresh_from_db()
    assert response.status_code == 403
    assert case.status == Status.NEW
    assert audit_outcomes(case) == [AuditOutcome.DENIED]


@pytest.mark.django_db
def test_attachment_downloads_after_the_access_check(agent_client):
    case = make_case(attachments=[NewAttachment("screen.png", "image/png", b"\x89PNG fake bytes")])
    attachment = customer_thread(case).messages.get().attachments.get()

    response = agent_client.get(f"/cases/{case.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG fake bytes"
    assert response["Content-Disposition"] == 'attachment; filename="screen.png"'
    assert audit_outcomes(case) == [AuditOutcome.GRANTED]


@pytest.mark.django_db
def test_attachment_of_another_case_is_not_found(agent_client):
    other = make_case(attachments=[NewAttachment("notes.txt", "text/plain", b"secret")])
    case = make_case()
    attachment = customer_thread(other).messages.get().attachments.get()

    response = agent_client.get(f"/cases/{case.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_attachment_of_a_case_above_clearance_is_refused(agent_client):
    case = make_case(
        sensitivity=Sensitivity.CLINICAL,
        attachments=[NewAttachment("notes.txt", "text/plain", b"clinical")],
    )
    attachment = customer_thread(case).messages.get().attachments.get()

    response = agent_client.get(f"/cases/{case.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")  # the break-glass page, no file
    assert audit_outcomes(case) == [AuditOutcome.DENIED]


PRIORITY_CYCLE = (Priority.LOW, Priority.HIGH)


def grow_case(agent, case, rounds: int) -> None:
    vendor = make_third_party_thread(agent, case, name=f"Vendor {rounds}")
    for number in range(rounds):
        file = NewAttachment(f"file{number}.txt", "text/plain", f"{rounds}-{number}".encode())
        received = services.receive_message(
            customer_thread(case),
            text=f"Message {number}",
            inbound=services.InboundDetails(
                full_text=f"Message {number}\n> quoted", raw_file=f"raw/{number}", is_automated=True
            ),
        )
        events.attachment_refused(received, filename="run.exe", reason="run.exe could run code")
        sent = services.reply(agent, vendor, text=f"Question {number}", attachments=[file])
        services.deliver_outbound(sent.pk)
        services.add_note(agent, case, text=f"Note {number}")
        services.update_case(agent, case, {"priority": PRIORITY_CYCLE[number % 2]})
        events.merge_suggested(case, other=make_case(customer=case.customer), at=timezone.now())


@pytest.mark.django_db
def test_case_page_query_count_does_not_grow_with_the_timeline(agent_client, agent):
    small, large = make_case(), make_case()
    grow_case(agent, small, 2)
    grow_case(agent, large, 20)

    with CaptureQueriesContext(connection) as for_small:
        agent_client.get(f"/cases/{small.pk}/")
    with CaptureQueriesContext(connection) as for_large:
        for_large_page = agent_client.get(f"/cases/{large.pk}/")

    assert large.messages.count() == 61
    assert b"Merge this case into" in for_large_page.content
    assert len(for_large) == len(for_small)


@pytest.mark.django_db
def test_merged_case_timeline_links_attachments_through_the_target(agent_client, agent):
    source = make_case(attachments=[NewAttachment("plan.txt", "text/plain", b"the plan")])
    target = make_case()
    services.merge_cases(agent, source=source, target=target)
    attachment = Attachment.objects.get(filename="plan.txt")

    response = agent_client.get(f"/cases/{source.pk}/")

    assert f'href="/cases/{target.pk}/attachments/{attachment.pk}/"'.encode() in response.content
