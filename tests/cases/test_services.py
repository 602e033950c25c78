from __future__ import annotations

import pytest

from kiwidesk.cases import services
from kiwidesk.cases.models import Case, Direction, EventKind, Party, Status
from tests.factories.cases import customer_thread, make_case, make_third_party_thread


def kinds(case: Case) -> list[str]:
    return list(case.events.order_by("created_at", "id").values_list("kind", flat=True))


@pytest.mark.django_db
def test_open_case_records_customer_thread_first_message_and_events(agent, customer):
    case = make_case(agent, customer=customer, subject="Export my data")

    thread = customer_thread(case)
    assert case.status == Status.NEW
    assert thread.contact == customer
    assert list(thread.messages.values_list("direction", flat=True)) == [Direction.INBOUND]
    assert kinds(case) == [EventKind.CASE_OPENED, EventKind.MESSAGE_RECEIVED]


@pytest.mark.django_db
def test_first_reply_takes_a_new_case_out_of_new(agent):
    case = make_case()

    services.reply(agent, customer_thread(case), text="We are on it.")

    case.refresh_from_db()
    assert case.status == Status.OPEN
    assert kinds(case)[-2:] == [EventKind.MESSAGE_SENT, EventKind.STATUS_CHANGED]


@pytest.mark.django_db
def test_third_party_answer_lands_on_its_own_thread(agent):
    case = make_case(agent)
    vendor_thread = make_third_party_thread(agent, case)
    services.update_case(agent, case, {"status": Status.PENDING_THIRD_PARTY})

    services.receive_message(vendor_thread, text="Table for six at eight is booked.")

    case.refresh_from_db()
    assert case.status == Status.OPEN
    assert vendor_thread.messages.count() == 1
    assert customer_thread(case).messages.count() == 1
    assert vendor_thread.party == Party.THIRD_PARTY


@pytest.mark.django_db
def test_reply_from_customer_after_solve_reopens_case(agent):
    case = make_case(agent)
    services.update_case(agent, case, {"status": Status.SOLVED})

    services.receive_message(customer_thread(case), text="It froze again.")

    case.refresh_from_db()
    assert case.status == Status.OPEN
    assert case.solved_at is None
    assert EventKind.CASE_REOPENED in kinds(case)


@pytest.mark.django_db
def test_update_case_writes_one_event_per_changed_field(agent, teammate, team):
    case = make_case(agent)
    before = case.events.count()

    services.update_case(
        agent,
        case,
        {"priority": "urgent", "assignee": teammate, "team": team, "tags": ["Bug", "bug"]},
    )
    services.update_case(agent, case, {"priority": "urgent"})

    case.refresh_from_db()
    assert case.priority == "urgent"
    assert case.assignee == teammate
    assert list(case.tags.values_list("name", flat=True)) == ["bug"]
    assert case.events.count() == before + 4


@pytest.mark.django_db
def test_merge_moves_threads_and_keeps_both_timelines(agent, customer):
    target = make_case(agent, customer=customer, subject="Screen froze")
    source = make_case(None, customer=customer, subject="Still frozen")

    services.merge_cases(agent, source=source, target=target)

    source.refresh_from_db()
    assert source.merged_into == target
    assert source.status == Status.CLOSED
    assert target.threads.count() == 2
    assert target.messages.count() == 2
    with pytest.raises(services.CaseMergedError):
        services.add_note(agent, source, text="too late")


@pytest.mark.django_db
def test_merge_into_itself_is_refused(agent):
    case = make_case(agent)

    with pytest.raises(services.MergeError):
        services.merge_cases(agent, source=case, target=case)


@pytest.mark.django_db
def test_empty_message_is_refused_and_nothing_is_written(agent):
    case = make_case(agent)
    count = case.messages.count()

    with pytest.raises(services.EmptyMessageError):
        services.reply(agent, customer_thread(case), text="   ")

    assert case.messages.count() == count


@pytest.mark.django_db
def test_html_is_sanitised_before_it_is_stored(agent):
    case = make_case(agent)

    message = services.reply(
        agent,
        customer_thread(case),
        text="x",
        html='<p onclick="x()">Hi<script>alert(1)</script></p>',
    )

    assert message.body_html == "<p>Hi</p>"


@pytest.mark.django_db
def test_attachments_are_stored_once_by_content(agent):
    from kiwidesk.cases.content import NewAttachment

    case = make_case(agent)
    report = NewAttachment("report.pdf", "application/pdf", b"%PDF-1.7 same bytes")

    first = services.reply(agent, customer_thread(case), text="Here", attachments=[report])
    second = services.add_note(agent, case, text="Copy", attachments=[report])

    a, b = first.attachments.get(), second.attachments.get()
    assert a.file.name == b.file.name
    assert a.file.read() == b"%PDF-1.7 same bytes"


@pytest.mark.django_db
def test_executable_attachment_is_refused_and_no_message_is_written(agent):
    from kiwidesk.cases.content import AttachmentRefusedError, NewAttachment

    case = make_case(agent)
    count = case.messages.count()

    with pytest.raises(AttachmentRefusedError, match="could run code"):
        services.reply(
            agent,
            customer_thread(case),
            text="see attached",
            attachments=[NewAttachment("invoice.pdf.exe", "application/octet-stream", b"MZ")],
        )

    assert case.messages.count() == count


@pytest.mark.django_db
def test_case_opened_event_records_how_the_case_started(agent, team):
    case = make_case(agent, assignee=agent, team=team, priority="high", category="Export")

    opened = case.events.get(kind=EventKind.CASE_OPENED)

    assert opened.payload == {
        "channel": "email",
        "status": "open",
        "priority": "high",
        "sensitivity": "normal",
        "category": "Export",
        "team": {"id": team.pk, "name": "Clinician support"},
        "assignee": {"id": agent.pk, "name": "Agent One"},
    }
