from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kiwidesk.cases import services
from kiwidesk.cases.models import Sensitivity, Status
from tests.factories.cases import make_case


def case_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(rb'<td class="num">(\d+)</td>', response.content)]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


@pytest.mark.django_db
def test_inbox_lists_open_cases_newest_activity_first(agent_client):
    older = make_case(subject="Older")
    newer = make_case(subject="Newer")

    response = agent_client.get("/")

    assert response.status_code == 200
    assert case_ids(response) == [newer.pk, older.pk]


@pytest.mark.django_db
def test_everything_view_interleaves_statuses_by_last_activity(agent_client, agent):
    first, second, third = make_case(), make_case(), make_case()
    services.update_case(agent, first, {"status": Status.SOLVED})
    services.update_case(agent, third, {"status": Status.PENDING_CUSTOMER})
    services.update_case(agent, second, {"status": Status.OPEN})

    response = agent_client.get("/", {"view": "all"})

    assert case_ids(response) == [second.pk, third.pk, first.pk]


@pytest.mark.django_db
def test_oldest_sort_puts_the_longest_untouched_case_first(agent_client, agent):
    first, second, third = make_case(), make_case(), make_case()
    services.update_case(agent, first, {"status": Status.OPEN})
    services.update_case(agent, third, {"status": Status.ON_HOLD})

    response = agent_client.get("/", {"sort": "oldest"})

    assert case_ids(response) == [second.pk, first.pk, third.pk]


@pytest.mark.django_db
def test_priority_sort_puts_urgent_first_whatever_the_status(agent_client, agent):
    urgent = make_case(priority="urgent")
    high = make_case(priority="high")
    older_normal = make_case()
    newer_normal = make_case()
    services.update_case(agent, urgent, {"status": Status.PENDING_CUSTOMER})
    services.update_case(agent, older_normal, {"status": Status.ON_HOLD})

    response = agent_client.get("/", {"sort": "priority"})

    assert case_ids(response) == [urgent.pk, high.pk, older_normal.pk, newer_normal.pk]


@pytest.mark.django_db
def test_pages_follow_activity_across_statuses(agent_client, agent):
    cases = [make_case(subject=f"Case {number}") for number in range(52)]
    for case in cases[::2]:
        services.update_case(agent, case, {"status": Status.PENDING_THIRD_PARTY})

    first_page = agent_client.get("/")
    second_page = agent_client.get("/", {"page": "2"})

    assert case_ids(first_page) + case_ids(second_page) == [
        case.pk for case in [*cases[::2][::-1], *cases[1::2][::-1]]
    ]


@pytest.mark.django_db
def test_inbox_row_links_to_the_case(agent_client):
    case = make_case(subject="Cannot export my data")

    response = agent_client.get("/")

    assert f'<a href="/cases/{case.pk}/">Cannot export my data</a>'.encode() in response.content


@pytest.mark.django_db
def test_inbox_hides_cases_above_the_agents_clearance(agent_client):
    visible = make_case()
    make_case(sensitivity=Sensitivity.CLINICAL)

    response = agent_client.get("/")

    assert case_ids(response) == [visible.pk]


@pytest.mark.django_db
def test_sidebar_counts_each_view(agent_client, agent):
    make_case()
    make_case(agent, assignee=agent)
    solved = make_case()
    services.update_case(agent, solved, {"status": Status.SOLVED})

    response = agent_client.get("/inbox/counts/", headers={"HX-Request": "true"})

    counts = dict(
        re.findall(rb"<span>([\w ]+)</span><span class=\"count\"[^>]*>(\d+)<", response.content)
    )
    assert counts == {
        b"Mine": b"1",
        b"Unassigned": b"1",
        b"My teams": b"0",
        b"Pending": b"0",
        b"All open": b"2",
        b"Solved": b"1",
    }


@pytest.mark.django_db
def test_inbox_page_loads_its_counts_after_the_cases(agent_client):
    make_case()

    response = agent_client.get("/", {"view": "mine"})

    assert b'hx-get="/inbox/counts/?view=mine" hx-trigger="load"' in response.content
    assert b'class="count"' not in response.content


@pytest.mark.django_db
def test_sidebar_counts_leave_out_cases_above_clearance(agent_client):
    make_case()
    make_case(sensitivity=Sensitivity.CONFIDENTIAL)

    response = agent_client.get("/inbox/counts/")

    assert b'<span>All open</span><span class="count" aria-label="1 cases">1</span>' in (
        response.content
    )


@pytest.mark.django_db
def test_status_filter_keeps_only_matching_cases(agent_client, agent):
    pending = make_case()
    make_case()
    services.update_case(agent, pending, {"status": Status.PENDING_CUSTOMER})

    response = agent_client.get("/", {"status": Status.PENDING_CUSTOMER})

    assert case_ids(response) == [pending.pk]


@pytest.mark.django_db
def test_assignee_filter_finds_unassigned_cases(agent_client, agent):
    nobody = make_case()
    make_case(agent, assignee=agent)

    response = agent_client.get("/", {"assignee": "0"})

    assert case_ids(response) == [nobody.pk]


@pytest.mark.django_db
def test_search_matches_subject(agent_client):
    wanted = make_case(subject="Invoice shows the wrong VAT number")
    make_case(subject="Password reset never arrives")

    response = agent_client.get("/", {"q": "vat number"})

    assert case_ids(response) == [wanted.pk]


@pytest.mark.django_db
def test_unknown_filter_value_is_a_bad_request(agent_client):
    make_case()

    response = agent_client.get("/", {"status": "exploded"})

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


@pytest.mark.django_db
def test_inbox_shows_fifty_cases_and_a_next_link_that_keeps_the_filters(agent_client):
    for number in range(51):
        make_case(subject=f"Case {number}")

    response = agent_client.get("/", {"q": "Case", "sort": "created"})

    assert len(case_ids(response)) == 50
    assert b'href="?q=Case&amp;sort=created&amp;page=2"' in response.content


@pytest.mark.django_db
def test_second_page_holds_the_rest_and_no_next_link(agent_client):
    cases = [make_case(subject=f"Case {number}") for number in range(51)]

    response = agent_client.get("/", {"q": "Case", "sort": "created", "page": "2"})

    assert case_ids(response) == [cases[0].pk]
    assert b'rel="next"' not in response.content
    assert b'href="?q=Case&amp;sort=created"' in response.content


@pytest.mark.django_db
def test_htmx_request_gets_only_the_case_list(agent_client):
    make_case()

    response = agent_client.get("/", {"status": "new"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.startswith(b'<div id="case-list"')


@pytest.mark.django_db
def test_inbox_query_count_does_not_grow_with_the_number_of_cases(agent_client, agent, team):
    for _ in range(3):
        make_case(agent, assignee=agent, team=team, tags=["vip"])
    with_three = queries_for(agent_client, "/?view=all")
    for _ in range(27):
        make_case(agent, assignee=agent, team=team, tags=["vip"])

    with_thirty = queries_for(agent_client, "/?view=all")

    assert with_thirty == with_three
