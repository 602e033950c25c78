from __future__ import annotations

import pytest

from kiwidesk.cases import services
from kiwidesk.cases.models import Case, Channel, Status
from kiwidesk.cases.queries import InboxFilters, InboxView, case_timeline, inbox_cases, inbox_counts
from tests.factories.cases import make_case, make_third_party_thread


def ids(cases) -> list[int]:
    return [case.pk for case in cases]


@pytest.mark.django_db
def test_inbox_views_split_cases_by_owner_and_status(agent, teammate, team):
    mine = make_case(agent, assignee=agent, team=team)
    theirs = make_case(agent, assignee=teammate, team=team)
    unassigned = make_case()
    waiting = make_case(agent, assignee=agent)
    services.update_case(agent, waiting, {"status": Status.PENDING_CUSTOMER})
    done = make_case(agent)
    services.update_case(agent, done, {"status": Status.SOLVED})
    everyone = Case.objects.all()

    def view(name: str) -> list[int]:
        return sorted(ids(inbox_cases(everyone, agent, InboxFilters(view=name))))

    assert view(InboxView.MINE) == sorted([mine.pk, waiting.pk])
    assert view(InboxView.UNASSIGNED) == [unassigned.pk]
    assert view(InboxView.MY_TEAMS) == sorted([mine.pk, theirs.pk])
    assert view(InboxView.PENDING) == [waiting.pk]
    assert view(InboxView.SOLVED) == [done.pk]
    assert inbox_counts(everyone, agent) == {
        "mine": 2, "unassigned": 1, "teams": 2, "pending": 1, "open": 4, "solved": 1,
    }  # fmt: skip


@pytest.mark.django_db
def test_filters_narrow_by_tag_channel_priority_and_text(agent):
    tagged = make_case(agent, subject="Export session notes", tags=["export"], priority="high")
    on_phone = make_case(agent, subject="Table in Antigua", channel=Channel.WHATSAPP)
    make_third_party_thread(agent, on_phone, channel=Channel.PHONE)
    everyone = Case.objects.all()

    def found(**filters: object) -> list[int]:
        return ids(inbox_cases(everyone, agent, InboxFilters(**filters)))

    assert found(tag="Export") == [tagged.pk]
    assert found(channel=Channel.PHONE) == [on_phone.pk]
    assert found(priority="high") == [tagged.pk]
    assert found(q="antigua") == [on_phone.pk]
    assert found(q=f"#{tagged.pk}") == [tagged.pk]


@pytest.mark.django_db
def test_priority_sort_puts_urgent_first(agent):
    low = make_case(agent, priority="low")
    urgent = make_case(agent, priority="urgent")
    normal = make_case(agent)

    ordered = inbox_cases(Case.objects.all(), agent, InboxFilters(sort="priority"))

    assert ids(ordered) == [urgent.pk, normal.pk, low.pk]


@pytest.mark.django_db
def test_timeline_of_a_merged_case_includes_the_merged_case_history(agent, customer):
    target = make_case(agent, customer=customer)
    source = make_case(None, customer=customer)

    services.merge_cases(agent, source=source, target=target)

    kinds = [event.kind for event in case_timeline(target)]
    assert kinds.count("case_opened") == 2
    assert "case_merged" in kinds
    assert "merged_into" in kinds


@pytest.mark.django_db
def test_an_auto_reply_does_not_make_the_customer_wait_on_us(agent):
    from kiwidesk.cases.queries import last_directions
    from kiwidesk.cases.services import InboundDetails
    from tests.factories.cases import customer_thread

    case = make_case(agent)
    thread = customer_thread(case)
    services.reply(agent, thread, text="Could you send a screenshot?")

    services.receive_message(
        thread, text="I am out of the office.", inbound=InboundDetails(is_automated=True)
    )

    assert last_directions(case) == {thread.pk: "outbound"}
